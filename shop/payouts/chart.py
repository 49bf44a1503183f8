"""A server-rendered SVG bar chart of sales per day, for the seller's reports.

Drawn the way the shop's other charts are: a plot without text in a viewBox that
stretches to the page's width (preserveAspectRatio="none"), its axis labels as
plain values the template writes in HTML around it, colours from the
stylesheet's classes (the Content-Security-Policy allows no inline styles), and
a <title> per day that browsers show as a tooltip.
"""

from html import escape

from shop.money import format_money

HEIGHT = 100
SLOT = 10  # viewBox units per day
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


def sales_per_day(days, currency, title="Sales per day"):
    """The chart of [(date, gross, items)], one bar per day; a dict the template _sales_chart.tpl draws."""
    top = nice_ceiling(max((gross for _, gross, _ in days), default=0))
    width = max(1, len(days)) * SLOT
    bars = []
    for index, (day, gross, items) in enumerate(days):
        tip = f"{day:%d %b %Y}: {format_money(gross, currency)}, {items} item{'' if items == 1 else 's'}"
        parts = [f"<title>{escape(tip)}</title>",
                 f'<rect class="chart-hit" x="{index * SLOT}" y="0" width="{SLOT}" height="{HEIGHT}"/>']
        if gross > 0:
            height = HEIGHT * gross / top
            parts.append(f'<rect class="chart-bar-ok" x="{index * SLOT + GAP / 2:g}" y="{HEIGHT - height:.2f}" '
                         f'width="{SLOT - GAP}" height="{height:.2f}"/>')
        bars.append(f"<g>{''.join(parts)}</g>")
    total = sum(gross for _, gross, _ in days)
    summary = f"{format_money(total, currency)} in {len(days)} days"
    grid = "".join(f'<line class="chart-grid" x1="0" x2="{width}" y1="{y}" y2="{y}" '
                   'vector-effect="non-scaling-stroke"/>' for y in (0, 25, 50, 75))
    svg = (f'<svg class="chart-plot" viewBox="0 0 {width} {HEIGHT}" preserveAspectRatio="none" role="img" '
           f'aria-label="{escape(title + ": " + summary)}" xmlns="http://www.w3.org/2000/svg">{grid}{"".join(bars)}'
           f'<line class="chart-axis" x1="0" x2="{width}" y1="{HEIGHT}" y2="{HEIGHT}" '
           'vector-effect="non-scaling-stroke"/></svg>')
    picks = [days[0], days[len(days) // 2], days[-1]] if days else []
    return {"title": title, "kind": "sales", "summary": summary, "svg": svg,
            "y_top": format_money(top, currency), "y_mid": format_money(top // 2, currency) if top >= 2 else "",
            "x_labels": [f"{day:%d %b}" for day, _, _ in picks], "unit": f"gross sales per day, {currency}"}
