"""`marketplace storage copy --to s3` (or `--to local`): an existing shop's files into the other store.

Every file that a row names (products/, media/, invoices/) is copied from the
store not named by --to into the one that is. The copy is resumable: a file the
target already holds with the same SHA-256 is skipped, so a copy cut off by a
fault (or by Ctrl-C) goes on where it stopped when run again. Each copied file
is read back from the target and its SHA-256 compared with the source's before
it counts; an object is written whole or not at all (see the stores), so a cut
leaves nothing half-written.

The shop may keep running: files are never changed in place (new uploads get
new names), so a file copied once stays right. Files written while the copy
runs are picked up by running it again after the switch (DEPLOY.md).
"""

import dataclasses
import sys

from shop import config
from shop.errors import ConfigError, StorageError
from shop.storage import COPIED_AREAS, INVOICES, MEDIA, build

CONTENT_TYPES = {MEDIA: "image/webp", INVOICES: "application/pdf"}


class CopyMismatch(StorageError):
    """A copied file reads back with other bytes than its source's."""


@dataclasses.dataclass
class CopyReport:
    copied: int = 0
    skipped: int = 0
    bytes: int = 0


def content_type(key):
    area = key.split("/", 1)[0]
    if area == MEDIA and not key.endswith(".webp"):
        return "application/octet-stream"
    return CONTENT_TYPES.get(area, "application/octet-stream")


def copy_file(source, target, key):
    """Copy one file, verified; returns its size, or None when the target had it already."""
    expected = source.recorded_checksum(key)
    if expected is None:
        return None  # removed from the source since it was listed (a replaced upload)
    if target.recorded_checksum(key) == expected:
        return None
    with source.open(key) as handle:
        stored = target.put_file(key, handle, content_type=content_type(key))
    if stored.sha256 != expected or target.checksum(key) != expected:
        target.delete(key)
        raise CopyMismatch(f"{key} did not arrive intact in {target.describe()}: its SHA-256 differs from "
                           f"the source's; it was removed there, run the copy again")
    return stored.size


def copy_files(source, target, areas=COPIED_AREAS, progress=None):
    """Copy every file of `areas` from `source` to `target`; returns a CopyReport.

    A StorageError stops the copy; what was copied before it stays copied.
    """
    report = CopyReport()
    for area in areas:
        for key in source.keys(f"{area}/"):
            size = copy_file(source, target, key)
            if size is None:
                report.skipped += 1
            else:
                report.copied += 1
                report.bytes += size
            if progress:
                progress(key, size)
    return report


def cmd_storage_copy(args):
    source_kind = "local" if args.to == "s3" else "s3"
    try:
        source, target = build(source_kind), build(args.to)
    except (StorageError, ConfigError) as exc:
        print(f"Storage copy cannot start: {exc}", file=sys.stderr)
        return 2
    print(f"Copying the shop's files from {source.describe()} to {target.describe()}")
    progress = (lambda key, size: print(f"  {'copied' if size is not None else 'already there'}: {key}")
                if args.verbose else None)
    report = CopyReport()
    try:
        report = copy_files(source, target, progress=progress)
    except StorageError as exc:
        print(f"Storage copy stopped: {exc}\nWhat was copied is kept and verified; "
              f"run the same command again to go on from there.", file=sys.stderr)
        return 1
    print(f"Copied {report.copied} files ({report.bytes} bytes), {report.skipped} already there and verified.")
    if config.STORAGE != args.to:
        print(f"To switch the shop over, set STORAGE={args.to} and restart the web app and the consumer; "
              f"then run this copy once more for files written meanwhile.")
    return 0


def add_command(commands):
    parser = commands.add_parser("storage", help="the shop's file storage (local disk or S3-compatible bucket)")
    actions = parser.add_subparsers(dest="storage_command", metavar="ACTION", required=True)
    copy = actions.add_parser("copy", help="copy every product file, thumbnail and invoice to the other store",
                              description="Copy the shop's files between the local disk and the S3 bucket; "
                                          "resumable, each file verified by SHA-256, safe while the shop runs.")
    copy.add_argument("--to", choices=("s3", "local"), required=True, help="the store to copy into")
    copy.add_argument("--verbose", action="store_true", help="name every file")
    # A copy touches files only; it neither dispatches nor runs jobs.
    copy.set_defaults(func=cmd_storage_copy, needs_jobs=False)
