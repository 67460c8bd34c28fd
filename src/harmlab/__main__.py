"""`python -m harmlab` runs the command line."""

from harmlab.cli import main

main()
