from coordsweep.engine.cli import main

raise SystemExit(main())
