"""How the queue pages write durations, sizes, ages and counts (one way, everywhere)."""

import datetime
import html


def duration(seconds):
    """0.0042 -> '4 ms', 1.25 -> '1.25 s', 200 -> '3 min 20 s'; None -> '—'."""
    if seconds is None:
        return "—"
    if seconds < 0.001:
        return "<1 ms" if seconds > 0 else "0 ms"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 10:
        return f"{seconds:.2f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{int(seconds) // 60} min {int(seconds) % 60} s"
    return f"{int(seconds) // 3600} h {int(seconds) % 3600 // 60} min"


def size(num_bytes):
    if not num_bytes:
        return "—"
    for unit in ("B", "KB", "MB", "GB"):
        if num_bytes < 1024 or unit == "GB":
            return f"{num_bytes:.0f} {unit}" if unit == "B" else f"{num_bytes:.1f} {unit}"
        num_bytes /= 1024
    return f"{num_bytes:.1f} GB"  # pragma: no cover


def number(value):
    return f"{value:,}" if isinstance(value, int) else str(value)


def parse(stamp):
    """An ISO stamp ('...Z') from the dashboard's figures, as a naive UTC datetime."""
    if not stamp:
        return None
    if isinstance(stamp, datetime.datetime):
        return stamp
    return datetime.datetime.fromisoformat(stamp.rstrip("Z"))


def ago(stamp, now=None):
    """'12 s ago', '5 min ago', '3 h ago', '2 d ago'."""
    moment = parse(stamp)
    if moment is None:
        return "—"
    now = now or datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 90:
        return f"{seconds} s ago"
    if seconds < 5400:
        return f"{seconds // 60} min ago"
    if seconds < 172800:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


def when(stamp):
    """'14 Mar 10:04:05' (UTC)."""
    moment = parse(stamp)
    return moment.strftime("%d %b %H:%M:%S") if moment else "—"


def breakable(name):
    """Escaped HTML of a job name that may wrap after its underscores (narrow tiles on a phone)."""
    return html.escape(name or "").replace("_", "_<wbr>")


def short_uuid(value):
    return (value or "")[:8]
