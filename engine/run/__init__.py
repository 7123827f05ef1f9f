"""How to compute: the run plan (create, resume, join a part), executors
(in-process with the writer thread, distributed), cluster and SLURM helpers,
progress."""
