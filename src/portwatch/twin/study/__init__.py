"""Studies: replications on common random numbers, statistics, the border study, reports."""
