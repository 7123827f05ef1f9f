"""Reading results without drawing: counts, summaries and `inspect`,
sensitivity indices, export."""
