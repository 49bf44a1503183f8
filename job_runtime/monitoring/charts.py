"""Server-rendered SVG charts of throughput, runtime and wait, for the queue pages.

A chart is a plot without text, drawn in a viewBox that stretches to the width
of the page (preserveAspectRatio="none", lines with non-scaling strokes), and
its axis labels as plain values the template writes in HTML around it: text
inside a stretched SVG would be squeezed on a phone. Colours come from the
stylesheet's classes, since the Content-Security-Policy allows no inline styles.
Each bucket carries a <title>, which browsers show as a tooltip.
"""

from html import escape

from job_runtime.monitoring import formatting

HEIGHT = 100
SLOT = 10  # viewBox units per bucket
GAP = 2


def nice_ceiling(value):
    """The smallest 1, 2 or 5 x 10^k at or above `value` (at least 1)."""
    if value <= 1:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= value:
            return factor * magnitude
    return 10 * magnitude  # pragma: no cover


def _label(point, step):
    moment = point["at"]
    return moment.strftime("%d %b %H:%M") if step >= 60 else moment.strftime("%H:%M")


def _x_labels(points, step):
    if not points:
        return []
    picks = [points[0], points[len(points) // 2], points[-1]]
    return [_label(p, step) for p in picks]


def _grid(width):
    return "".join(f'<line class="chart-grid" x1="0" x2="{width}" y1="{y}" y2="{y}" '
                   'vector-effect="non-scaling-stroke"/>' for y in (0, 25, 50, 75))


def _svg(width, body, label):
    return (f'<svg class="chart-plot" viewBox="0 0 {width} {HEIGHT}" preserveAspectRatio="none" '
            f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
            f'{_grid(width)}{body}'
            f'<line class="chart-axis" x1="0" x2="{width}" y1="{HEIGHT}" y2="{HEIGHT}" '
            'vector-effect="non-scaling-stroke"/></svg>')


def _per(step):
    return "per minute" if step == 1 else f"per {step} min" if step < 60 else f"per {step // 60} h"


def throughput(points, step=1, title="Throughput"):
    """Stacked bars of completed (green) and failed (red) jobs per bucket."""
    top = nice_ceiling(max((p["processed"] for p in points), default=0))
    width = max(1, len(points)) * SLOT
    bars = []
    for index, point in enumerate(points):
        x = index * SLOT + GAP / 2
        completed_h = HEIGHT * point["completed"] / top
        failed_h = HEIGHT * point["failed"] / top
        tip = (f"{_label(point, step)}: {point['completed']} completed"
               + (f", {point['failed']} failed" if point["failed"] else ""))
        parts = [f"<title>{escape(tip)}</title>",
                 f'<rect class="chart-hit" x="{index * SLOT}" y="0" width="{SLOT}" height="{HEIGHT}"/>']
        if point["completed"]:
            parts.append(f'<rect class="chart-bar-ok" x="{x:g}" y="{HEIGHT - completed_h:.2f}" '
                         f'width="{SLOT - GAP}" height="{completed_h:.2f}"/>')
        if point["failed"]:
            parts.append(f'<rect class="chart-bar-bad" x="{x:g}" y="{HEIGHT - completed_h - failed_h:.2f}" '
                         f'width="{SLOT - GAP}" height="{failed_h:.2f}"/>')
        bars.append(f"<g>{''.join(parts)}</g>")
    total = sum(p["processed"] for p in points)
    failed = sum(p["failed"] for p in points)
    peak = max((p["processed"] for p in points), default=0)
    summary = f"{total:,} jobs, {failed:,} failed; peak {peak:,} {_per(step)}"
    return {
        "title": title, "kind": "throughput", "summary": summary,
        "svg": _svg(width, "".join(bars), f"{title}: {summary}"),
        "y_top": f"{top:,}", "y_mid": f"{top / 2:,.0f}" if top >= 2 else "", "unit": f"jobs {_per(step)}",
        "x_labels": _x_labels(points, step),
    }


def average_per_job(points, measure="duration"):
    """The average runtime (or wait) of every job in `points`: their summed durations
    (waits) over their count.

    An average of the buckets' averages would weigh a minute with one slow job like a
    minute with a thousand quick ones, and disagree with the tables beside the chart.
    """
    count = sum(p.get(f"{measure}_count") or 0 for p in points)
    return sum(p.get(f"{measure}_sum") or 0.0 for p in points) / count if count else None


def runtime(points, step=1, title="Average runtime"):
    """A line of the average runtime per bucket (gaps where nothing ran)."""
    return _seconds_line(points, step, title, "duration", "runtime", ("average", "slowest"), "average per job")


def wait(points, step=1, title="Average wait"):
    """A line of the average wait per bucket: from due to claimed, of the jobs that finished in it."""
    return _seconds_line(points, step, title, "wait", "wait", ("average wait", "longest"),
                         "average wait before a worker took the job")


def _seconds_line(points, step, title, measure, kind, words, unit):
    """A line of the average of `measure` ("duration" or "wait") per bucket (gaps where
    there is none), its maximum in the tooltips."""
    key, max_key = f"avg_{measure}", f"{measure}_max"
    values = [p[key] for p in points]
    top_value = max((v for v in values if v is not None), default=0.0)
    top = _nice_seconds(top_value)
    width = max(1, len(points)) * SLOT
    segments, current = [], []
    hits = []
    for index, point in enumerate(points):
        value = point[key]
        x = index * SLOT + SLOT / 2
        if value is None:
            if current:
                segments.append(current)
                current = []
        else:
            current.append(f"{x:g},{HEIGHT - HEIGHT * min(value, top) / top:.2f}")
        tip = (f"{_label(point, step)}: {words[0]} {formatting.duration(value)}, "
               f"{words[1]} {formatting.duration(point[max_key])}" if value is not None
               else f"{_label(point, step)}: no jobs")
        hits.append(f'<g><title>{escape(tip)}</title><rect class="chart-hit" x="{index * SLOT}" y="0" '
                    f'width="{SLOT}" height="{HEIGHT}"/></g>')
    if current:
        segments.append(current)
    lines = []
    for segment in segments:
        if len(segment) == 1:
            # A lone value (nothing ran on either side) is drawn as a dash across its bucket:
            # a dot would be squeezed to nothing by the stretched viewBox.
            x, y = (float(v) for v in segment[0].split(","))
            lines.append(f'<polyline class="chart-line" points="{x - SLOT / 2 + 1:g},{y:.2f} {x + SLOT / 2 - 1:g},{y:.2f}" '
                         'vector-effect="non-scaling-stroke"/>')
        else:
            lines.append(f'<polyline class="chart-line" points="{" ".join(segment)}" '
                         'vector-effect="non-scaling-stroke"/>')
    average = average_per_job(points, measure)
    summary = (f"average {formatting.duration(average)}, highest "
               f"{formatting.duration(top_value)}" if average is not None else "no jobs finished")
    return {
        "title": title, "kind": kind, "summary": summary,
        "svg": _svg(width, "".join(hits) + "".join(lines), f"{title}: {summary}"),
        "y_top": formatting.duration(top), "y_mid": formatting.duration(top / 2), "unit": unit,
        "x_labels": _x_labels(points, step),
    }


def _nice_seconds(value):
    """A round top for a runtime axis: 10 ms, 20 ms, 50 ms, ... 1 s, 2 s, 5 s, ..."""
    if value <= 0:
        return 0.01
    top = 0.001
    while top < value:
        for factor in (2, 2.5, 2):
            top *= factor
            if top >= value:
                break
    return top
