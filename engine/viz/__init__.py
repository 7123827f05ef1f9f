"""Pictures of results: plots and the HTML report."""
