"""`python -m conv_lib.diagnose`: print the catalogue of the misconception codes.

Plain text by default; with --markdown the Markdown page that `make catalogue`
writes to conv_lib/diagnose/catalogue.md.
"""

import argparse

from .catalogue import print_catalogue


def main(argv=None):
    """Parse the command line and print the catalogue."""
    parser = argparse.ArgumentParser(
        prog="python -m conv_lib.diagnose",
        description="Print every misconception code: its sentence, the notebooks where it can appear, an example.",
    )
    parser.add_argument("--markdown", action="store_true", help="print the Markdown page (catalogue.md) instead")
    print_catalogue(markdown=parser.parse_args(argv).markdown)


if __name__ == "__main__":
    main()
