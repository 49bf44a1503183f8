"""Charts of the benchmarks' results, as PNG files drawn with Pillow.

    python bench/charts.py --pipeline pipeline.json [--catalog catalog.json] [--out docs/benchmarks]

- purchase-rate-by-consumers.png: purchases per second against the number of
  consumer processes, a line per backend pair, from the JSON that
  `bench/pipeline.py --consumers 1,2,4 --json pipeline.json` writes;
- catalog-rate-by-size.png: the catalog's first page as a share of the minimal
  Bottle page measured in the same run (the ceiling; the issue's measure, steadier
  than requests per second on a shared machine) against the number of products, a
  line per backend pair, from the JSON `bench/catalog.py --products 10000,100000
  --json catalog.json` writes:

      {"benchmark": "catalog", "results": [{"backends": "sqlite", "products": 10000,
                                            "page": "first page", "rps": 858.0,
                                            "ceiling_rps": 5400.0}, ...]}

  or from shares given on the command line instead of a file:
  --catalog "sqlite:10000=0.16,100000=0.12;postgres-redis:10000=0.11".

A title and a note under each chart (--note, e.g. the date and the machine) say
what was measured.
"""

import argparse
import json
import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
FONTS = ROOT / "shop" / "orders" / "fonts"
COLOURS = [(31, 119, 180), (214, 96, 39), (44, 160, 44), (148, 103, 189)]
LABELS = {"sqlite": "SQLite / SQLite", "postgres-redis": "PostgreSQL / Redis"}
WIDTH, HEIGHT = 920, 580
LEFT, RIGHT, TOP, BOTTOM = 90, 200, 70, 120


def _font(size, bold=False):
    try:
        return ImageFont.truetype(str(FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf")), size)
    except OSError:
        return ImageFont.load_default(size)


def _nice_top(value):
    """The smallest 1, 2 or 5 times a power of ten at or above value."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def line_chart(path, title, x_label, y_label, series, note="", x_format=str):
    """series: {label: [(x, y), ...]}; the x values are spaced evenly, as categories."""
    xs = sorted({x for points in series.values() for x, _ in points})
    top = _nice_top(max((y for points in series.values() for _, y in points), default=1) * 1.1)
    small, normal, heading = _font(14), _font(16), _font(20, bold=True)
    # The legend sits right of the plot: the image widens for its longest label.
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    right = max([RIGHT] + [int(measure.textlength(name, font=small)) + 70 for name in series])
    width = WIDTH - RIGHT + right
    image = Image.new("RGB", (width, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x):
        index = xs.index(x)
        return LEFT + (plot_w * (index + 0.5) / len(xs))

    def py(y):
        return TOP + plot_h - plot_h * y / top

    draw.text((LEFT, 22), title, fill="black", font=heading)
    for i in range(6):  # horizontal grid and the y axis's figures
        value = top * i / 5
        y = py(value)
        draw.line((LEFT, y, LEFT + plot_w, y), fill=(225, 225, 225))
        text = f"{value:g}"
        draw.text((LEFT - 10 - draw.textlength(text, font=small), y - 8), text, fill="black", font=small)
    draw.rectangle((LEFT, TOP, LEFT + plot_w, TOP + plot_h), outline="black")
    for x in xs:
        text = x_format(x)
        draw.text((px(x) - draw.textlength(text, font=small) / 2, TOP + plot_h + 8), text, fill="black", font=small)
    draw.text((LEFT + plot_w / 2 - draw.textlength(x_label, font=normal) / 2, TOP + plot_h + 32), x_label,
              fill="black", font=normal)
    label = Image.new("RGBA", (int(draw.textlength(y_label, font=normal)) + 4, 22), (255, 255, 255, 0))
    ImageDraw.Draw(label).text((0, 0), y_label, fill="black", font=normal)
    label = label.rotate(90, expand=True)
    image.paste(label, (14, int(TOP + plot_h / 2 - label.height / 2)), label)

    for n, (name, points) in enumerate(series.items()):
        colour = COLOURS[n % len(COLOURS)]
        points = sorted(points)
        coords = [(px(x), py(y)) for x, y in points]
        if len(coords) > 1:
            draw.line(coords, fill=colour, width=3)
        for (cx, cy), (_, y) in zip(coords, points):
            draw.ellipse((cx - 5, cy - 5, cx + 5, cy + 5), fill=colour)
            text = f"{y:.0f}" if y >= 10 else f"{y:.1f}" if y >= 1 else f"{y:.2f}"
            draw.text((cx + 8, cy - 20), text, fill=colour, font=small)
        ly = TOP + 10 + 28 * n  # the legend, right of the plot
        draw.line((LEFT + plot_w + 15, ly + 9, LEFT + plot_w + 40, ly + 9), fill=colour, width=3)
        draw.text((LEFT + plot_w + 46, ly), name, fill="black", font=small)
    lines, line = [], ""
    for word in note.split():  # the note, wrapped to the image's width
        if line and draw.textlength(f"{line} {word}", font=small) > width - LEFT - 20:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    for n, text in enumerate(lines + [line] if line else lines):
        draw.text((LEFT, HEIGHT - 48 + 18 * n), text, fill=(90, 90, 90), font=small)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    image.save(path, optimize=True)
    return path


def pipeline_series(data):
    series = {}
    mixed = len({r.get("arenas", "default") for r in data["results"]}) > 1
    deliveries = len({r.get("invoice_delivery", "attach") for r in data["results"]}) > 1
    for r in data["results"]:
        if "consumers" not in r:
            continue
        label = LABELS.get(r["backends"], r["backends"])
        if mixed:  # a line per malloc arena setting too
            label += ", glibc arenas" if r.get("arenas", "default") == "default" else f", {r['arenas']} arenas"
        if deliveries:  # and per INVOICE_DELIVERY
            label += ", invoice on request" if r.get("invoice_delivery") == "link" else ", invoice attached"
        series.setdefault(label, []).append((r["consumers"], r["purchases_per_s"]))
    return series


def catalog_series(source):
    series = {}
    if Path(source).exists():
        for r in json.loads(Path(source).read_text())["results"]:
            # The page as kept for guests, and as rendered afresh (after a catalog change,
            # or for a visitor with a session).
            page = r.get("page", "first page")
            if page in ("first page", "first page, not kept"):
                label = LABELS.get(r["backends"], r["backends"]) + (", not kept" if "not kept" in page else ", kept")
                series.setdefault(label, []).append((r["products"], r["rps"] / r["ceiling_rps"]))
        return series
    for part in source.split(";"):
        backends, figures = part.split(":", 1)
        for pair in figures.split(","):
            size, rate = pair.split("=")
            series.setdefault(LABELS.get(backends, backends), []).append((int(size), float(rate)))
    return series


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", help="the JSON of bench/pipeline.py --consumers ... --json (several: a,b)")
    parser.add_argument("--catalog", help="a JSON of catalog results, or figures: backends:size=rate,...;...")
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks"))
    parser.add_argument("--note", default="", help="a line under each chart: the date, the machine")
    args = parser.parse_args()
    out = Path(args.out)
    if args.pipeline:
        data = {"results": [r for name in args.pipeline.split(",")
                            for r in json.loads(Path(name).read_text())["results"]]}
        print(line_chart(out / "purchase-rate-by-consumers.png", "Purchase pipeline: rate by consumer processes",
                         "consumer processes (huey_consumer tasks.huey -w 4 each)", "purchases per second",
                         pipeline_series(data), args.note))
    if args.catalog:
        print(line_chart(out / "catalog-rate-by-size.png", "Catalog first page: rate by catalog size",
                         "approved products", "share of the minimal Bottle page's rate",
                         catalog_series(args.catalog), args.note,
                         x_format=lambda x: f"{x:,}"))


if __name__ == "__main__":
    main()
