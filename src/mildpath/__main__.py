"""`python -m mildpath` runs the command-line interface."""

from mildpath.cli import main

if __name__ == "__main__":
    main()
