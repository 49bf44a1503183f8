"""The demo shop's media: cover images drawn with Pillow and real product files.

Everything is generated from code, so the demo needs no binary assets and no
network: PDFs with fpdf2, ZIP archives of PNG icons and textures, WAV drum
loops. Covers are drawn at twice their size and scaled down, which smooths the
shapes' edges (ImageDraw itself does not anti-alias).
"""

import io
import math
import random
import struct
import wave
import zipfile

from fpdf import FPDF
from fpdf.fonts import FontFace
from PIL import Image, ImageDraw, ImageFilter, ImageFont

COVER_SIZE = (1200, 900)
SCALE = 2


# ---------------------------------------------------------------------------
# Fonts
# ---------------------------------------------------------------------------


def font(size, bold=True):
    """DejaVu Sans where the system has it (found by name), otherwise Pillow's built-in font."""
    for name in (("DejaVuSans-Bold.ttf",) if bold else ()) + ("DejaVuSans.ttf",):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def _wrap(draw, text, typeface, width):
    lines, line = [], ""
    for word in text.split():
        candidate = f"{line} {word}".strip()
        if draw.textlength(candidate, font=typeface) <= width or not line:
            line = candidate
        else:
            lines.append(line)
            line = word
    return lines + ([line] if line else [])


# ---------------------------------------------------------------------------
# Cover motifs: each draws on a transparent RGBA layer at SCALE × COVER_SIZE
# ---------------------------------------------------------------------------


def _rgba(colour, alpha):
    return (*colour, alpha)


def _circles(layer, w, h, rng, accent):
    draw = ImageDraw.Draw(layer)
    for _ in range(9):
        r = rng.randint(h // 10, h // 3)
        x, y = rng.randint(w // 3, w), rng.randint(-r // 2, h * 2 // 3)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=_rgba(accent, rng.randint(40, 110)))


def _grid(layer, w, h, rng, accent):
    draw = ImageDraw.Draw(layer)
    size, gap = h // 9, h // 30
    for row in range(4):
        for col in range(5):
            x, y = w * 21 // 50 + col * (size + gap), h // 12 + row * (size + gap)
            if rng.random() < 0.75:
                draw.rounded_rectangle((x, y, x + size, y + size), radius=size // 4,
                                       outline=_rgba(accent, 200), width=max(4, size // 16))
                kind = rng.choice("ocl")
                inset = size // 3
                if kind == "o":
                    draw.ellipse((x + inset, y + inset, x + size - inset, y + size - inset),
                                 outline=_rgba(accent, 230), width=max(4, size // 18))
                elif kind == "c":
                    draw.line((x + inset, y + size // 2, x + size - inset, y + size // 2), fill=_rgba(accent, 230),
                              width=max(4, size // 18))
                    draw.line((x + size // 2, y + inset, x + size // 2, y + size - inset), fill=_rgba(accent, 230),
                              width=max(4, size // 18))
                else:
                    draw.line((x + inset, y + size - inset, x + size - inset, y + inset), fill=_rgba(accent, 230),
                              width=max(4, size // 18))


def _bars(layer, w, h, rng, accent):
    draw = ImageDraw.Draw(layer)
    count, gap = 16, w // 120
    bar = (w // 2) // count
    base = h * 5 // 8
    for i in range(count):
        height = int(h * 0.45 * (0.35 + 0.65 * abs(math.sin(i * 0.7 + rng.random()))))
        x = w * 9 // 20 + i * bar
        draw.rounded_rectangle((x, base - height, x + bar - gap, base), radius=bar // 3,
                               fill=_rgba(accent, 150 + (i % 3) * 30))
    for k in range(3):
        points = [(x, base + h // 14 + k * h // 28 + int(math.sin(x / (w / 9) + k) * h / 40))
                  for x in range(0, w + 1, w // 60)]
        draw.line(points, fill=_rgba(accent, 110), width=h // 200 + 3)


def _chart(layer, w, h, rng, accent):
    draw = ImageDraw.Draw(layer)
    base = h * 3 // 5
    heights = [rng.uniform(0.25, 0.9) for _ in range(7)]
    width = w // 20
    for i, value in enumerate(sorted(heights)):
        x = w // 2 + i * (width + width // 2)
        draw.rounded_rectangle((x, base - int(h * 0.45 * value), x + width, base), radius=width // 4,
                               fill=_rgba(accent, 190))
    for i in range(5):
        r = h // 16
        x, y = w // 2 - r * 2 + i * r // 2, base - i * r // 3
        draw.ellipse((x - r, y - r // 3, x + r, y + r // 3), fill=_rgba((255, 214, 102), 230),
                     outline=_rgba((180, 130, 20), 255), width=5)


def _pages(layer, w, h, rng, accent):
    draw = ImageDraw.Draw(layer)
    for i in range(3):
        x, y = w // 2 + i * w // 18, h // 10 + i * h // 22
        pw, ph = w // 3, h * 2 // 3
        draw.rounded_rectangle((x, y, x + pw, y + ph), radius=18, fill=(255, 255, 255, 235 - i * 20),
                               outline=_rgba(accent, 120), width=4)
        draw.rectangle((x + pw // 10, y + ph // 10, x + pw // 3, y + ph // 10 + pw // 5), fill=_rgba(accent, 160))
        for line in range(9):
            ly = y + ph // 3 + line * ph // 16
            lw = pw * rng.uniform(0.45, 0.8)
            draw.rounded_rectangle((x + pw // 10, ly, x + pw // 10 + lw, ly + ph // 60), radius=6,
                                   fill=(120, 130, 150, 150))


def _blocks(layer, w, h, rng, accent):
    draw = ImageDraw.Draw(layer)
    palette = [accent, (255, 255, 255), (255, 196, 0), (30, 30, 40)]
    cell = h // 4
    for row in range(3):
        for col in range(4):
            x, y = w * 2 // 5 + col * cell, h // 10 + row * cell
            colour = _rgba(rng.choice(palette), 210)
            shape = rng.choice("rtcq")
            if shape == "r":
                draw.rectangle((x, y, x + cell, y + cell), fill=colour)
            elif shape == "t":
                draw.polygon([(x, y + cell), (x + cell, y + cell), (x, y)], fill=colour)
            elif shape == "c":
                draw.ellipse((x, y, x + cell, y + cell), fill=colour)
            else:
                draw.pieslice((x - cell, y, x + cell, y + 2 * cell), 270, 360, fill=colour)


def _sun(layer, w, h, rng, accent):
    draw = ImageDraw.Draw(layer)
    cx, cy, r = w * 2 // 3, h // 2, h // 3
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_rgba(accent, 235))
    for i in range(6):
        y = cy + i * r // 7
        draw.rectangle((cx - r, y, cx + r, y + r // 28 + i * 3), fill=(0, 0, 0, 0))
    for k, alpha in enumerate((120, 170, 230)):
        points = [(0, h)]
        for x in range(0, w + 1, w // 40):
            points.append((x, h * (0.62 + 0.09 * k) + math.sin(x / w * math.pi * (2 + k) + k) * h * 0.05))
        points.append((w, h))
        draw.polygon(points, fill=(20, 10, 40, alpha))


def _blobs(layer, w, h, rng, accent):
    draw = ImageDraw.Draw(layer)
    colours = [accent, (255, 183, 178), (181, 234, 215), (199, 206, 234), (255, 218, 193)]
    for _ in range(14):
        r = rng.randint(h // 8, h // 3)
        x, y = rng.randint(w // 3, w), rng.randint(0, h)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=_rgba(rng.choice(colours), rng.randint(70, 140)))


def _code(layer, w, h, rng, accent):
    draw = ImageDraw.Draw(layer)
    x0, y0 = w // 2 - w // 20, h // 10
    draw.rounded_rectangle((x0, y0, w - w // 16, h * 3 // 4), radius=24, fill=(15, 23, 42, 220))
    for i, colour in enumerate(((255, 95, 86), (255, 189, 46), (39, 201, 63))):
        draw.ellipse((x0 + 30 + i * 40, y0 + 26, x0 + 56 + i * 40, y0 + 52), fill=_rgba(colour, 255))
    colours = [accent, (250, 204, 21), (148, 163, 184), (244, 114, 182)]
    for line in range(10):
        y = y0 + 90 + line * h // 20
        x = x0 + 40 + (line % 4 in (1, 2)) * 60
        for _ in range(rng.randint(1, 3)):
            length = rng.randint(w // 30, w // 9)
            draw.rounded_rectangle((x, y, x + length, y + h // 60), radius=8, fill=_rgba(rng.choice(colours), 230))
            x += length + 24


def _globe(layer, w, h, rng, accent):
    draw = ImageDraw.Draw(layer)
    cx, cy, r = w * 2 // 3, h * 2 // 5, h // 3
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=_rgba(accent, 90), outline=_rgba(accent, 230), width=8)
    for k in range(1, 4):
        rx = r * k // 4
        draw.ellipse((cx - rx, cy - r, cx + rx, cy + r), outline=_rgba(accent, 200), width=6)
    for k in range(-2, 3):
        y = cy + k * r // 3
        half = int(math.sqrt(max(r * r - (y - cy) ** 2, 0)))
        draw.line((cx - half, y, cx + half, y), fill=_rgba(accent, 200), width=6)
    for _ in range(6):
        x, y = cx + rng.randint(-r, r) * 3 // 4, cy + rng.randint(-r, r) * 3 // 4
        draw.ellipse((x - 14, y - 14, x + 14, y + 14), fill=(255, 90, 90, 255), outline=(255, 255, 255, 255), width=5)


def _leaves(layer, w, h, rng, accent):
    for _ in range(16):
        length, width = rng.randint(h // 5, h // 3), rng.randint(h // 14, h // 9)
        leaf = Image.new("RGBA", (length, width), (0, 0, 0, 0))
        ImageDraw.Draw(leaf).ellipse((0, 0, length - 1, width - 1), fill=_rgba(rng.choice(
            [accent, (34, 139, 34), (107, 142, 35), (46, 125, 50)]), rng.randint(150, 230)))
        ImageDraw.Draw(leaf).line((0, width // 2, length, width // 2), fill=(255, 255, 255, 90), width=4)
        rotated = leaf.rotate(rng.randint(0, 180), expand=True)
        layer.alpha_composite(rotated, (rng.randint(w // 3, w - rotated.width),
                                              rng.randint(0, max(1, h - rotated.height))))


MOTIFS = {"circles": _circles, "grid": _grid, "bars": _bars, "chart": _chart, "pages": _pages,
          "blocks": _blocks, "sun": _sun, "blobs": _blobs, "code": _code, "globe": _globe, "leaves": _leaves}


def cover(title, label, seller, colours, motif, seed, dark_text=False):
    """A 1200 × 900 RGB cover: gradient, motif, a category label, the title and the seller's name."""
    top, bottom, accent = colours
    w, h = COVER_SIZE[0] * SCALE, COVER_SIZE[1] * SCALE
    rng = random.Random(seed)
    # A diagonal gradient: a vertical one, widened and turned.
    gradient = Image.linear_gradient("L").resize((w * 2, h * 2)).rotate(-30, expand=False)
    gradient = gradient.crop((w // 2, h // 2, w // 2 + w, h // 2 + h))
    image = Image.composite(Image.new("RGB", (w, h), bottom), Image.new("RGB", (w, h), top), gradient).convert("RGBA")
    layer = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    MOTIFS[motif](layer, w, h, rng, accent)
    image.alpha_composite(layer)

    ink = (28, 32, 46) if dark_text else (255, 255, 255)
    shade = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    shade_draw = ImageDraw.Draw(shade)
    if not dark_text:
        # A soft dark band behind the title keeps white text readable over any motif.
        for i in range(h // 2):
            shade_draw.line((0, h - i, w, h - i), fill=(0, 0, 0, int(150 * (1 - i / (h / 2)) ** 1.6)))
    image.alpha_composite(shade)

    draw = ImageDraw.Draw(image)
    margin = 90 * SCALE // 2 * 2
    label_font = font(30 * SCALE)
    pill_w = int(draw.textlength(label.upper(), font=label_font)) + 56 * SCALE // 2
    draw.rounded_rectangle((margin, margin, margin + pill_w, margin + 56 * SCALE), radius=28 * SCALE,
                           fill=(255, 255, 255, 235) if not dark_text else (28, 32, 46, 235))
    draw.text((margin + 14 * SCALE, margin + 28 * SCALE), label.upper(), font=label_font, anchor="lm",
              fill=(28, 32, 46) if not dark_text else (255, 255, 255))

    size = 92 * SCALE
    while True:
        title_font = font(size)
        lines = _wrap(draw, title, title_font, w * 0.62)
        if len(lines) <= 3 or size <= 56 * SCALE:
            break
        size -= 6 * SCALE
    line_height = int(size * 1.12)
    by_font = font(34 * SCALE, bold=False)
    y = h - margin - 50 * SCALE - line_height * len(lines)
    for line in lines:
        draw.text((margin, y), line, font=title_font, fill=ink)
        y += line_height
    draw.text((margin, y + 14 * SCALE), f"by {seller}", font=by_font, fill=(*ink, 220))
    final = image.convert("RGB").resize(COVER_SIZE, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    final.save(out, "JPEG", quality=90, optimize=True)
    return out.getvalue()


# ---------------------------------------------------------------------------
# Product files
# ---------------------------------------------------------------------------


def _pdf_text(text):
    """fpdf2's core fonts speak Latin-1; typographic punctuation is mapped to plain ASCII."""
    table = {"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "…": "...", "×": "x", "→": "->"}
    return "".join(table.get(c, c) for c in text).encode("latin-1", "replace").decode("latin-1")


def pdf(title, subtitle, sections, colour=(79, 70, 229), table=None):
    """A small, real PDF: a title page, then one page per (heading, paragraphs) section."""
    doc = FPDF(format="A4")
    doc.set_auto_page_break(True, margin=18)
    doc.set_title(_pdf_text(title))
    doc.add_page()
    doc.set_fill_color(*colour)
    doc.rect(0, 0, 210, 110, "F")
    doc.set_text_color(255, 255, 255)
    doc.set_font("Helvetica", "B", 30)
    doc.set_xy(20, 40)
    doc.multi_cell(170, 13, _pdf_text(title))
    doc.set_font("Helvetica", "", 14)
    doc.set_x(20)
    doc.multi_cell(170, 8, _pdf_text(subtitle))
    doc.set_text_color(40, 44, 60)
    for heading, paragraphs in sections:
        doc.add_page()
        doc.set_font("Helvetica", "B", 18)
        doc.set_text_color(*colour)
        doc.multi_cell(0, 10, _pdf_text(heading))
        doc.ln(2)
        doc.set_text_color(40, 44, 60)
        doc.set_font("Helvetica", "", 11.5)
        for paragraph in paragraphs:
            doc.multi_cell(0, 6.5, _pdf_text(paragraph))
            doc.ln(3)
    if table:
        headings, rows = table
        doc.add_page()
        doc.set_font("Helvetica", "", 11)
        style = FontFace(emphasis="BOLD", color=(255, 255, 255), fill_color=colour)
        with doc.table(headings_style=style, line_height=8) as grid:
            for row in [headings, *rows]:
                cells = grid.row()
                for value in row:
                    cells.cell(_pdf_text(str(value)))
    return bytes(doc.output())


def _zip(entries):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return out.getvalue()


def _png(image):
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def icon_pack(count=24, colour=(40, 44, 60)):
    rng = random.Random(7)
    entries = [("LICENSE.txt", "Line icons. Use in personal and commercial projects; do not resell as icons.\n")]
    for i in range(count):
        icon = Image.new("RGBA", (256, 256), (0, 0, 0, 0))
        draw = ImageDraw.Draw(icon)
        sides = rng.choice([0, 3, 4, 5, 6])
        if sides == 0:
            draw.ellipse((40, 40, 216, 216), outline=colour, width=14)
        else:
            points = [(128 + 88 * math.cos(2 * math.pi * k / sides - math.pi / 2),
                       128 + 88 * math.sin(2 * math.pi * k / sides - math.pi / 2)) for k in range(sides)]
            draw.polygon(points, outline=colour, width=14)
        r = rng.randint(18, 36)
        draw.ellipse((128 - r, 128 - r, 128 + r, 128 + r), fill=colour)
        entries.append((f"icons/icon-{i + 1:02d}.png", _png(icon.resize((128, 128), Image.Resampling.LANCZOS))))
    return _zip(entries)


def texture_pack(count=6, seed=3):
    rng = random.Random(seed)
    entries = [("README.txt", "Seamless-feel watercolour textures, 512 x 512 PNG.\n")]
    for i in range(count):
        base = tuple(rng.randint(150, 235) for _ in range(3))
        # Painted and blurred at half size, then enlarged: softer washes, and much faster.
        image = Image.new("RGB", (256, 256), base)
        draw = ImageDraw.Draw(image)
        for _ in range(40):
            r = rng.randint(10, 60)
            x, y = rng.randint(0, 256), rng.randint(0, 256)
            tint = tuple(min(255, max(0, c + rng.randint(-50, 50))) for c in base)
            draw.ellipse((x - r, y - r, x + r, y + r), fill=tint)
        wash = image.filter(ImageFilter.GaussianBlur(9)).resize((512, 512), Image.Resampling.BICUBIC)
        entries.append((f"textures/wash-{i + 1}.png", _png(wash)))
    return _zip(entries)


def social_kit():
    entries = [("README.txt", "Six square post templates (1080 x 1080). Replace the headline and post.\n")]
    palettes = [((255, 94, 98), (255, 153, 102)), ((79, 70, 229), (236, 72, 153)), ((16, 185, 129), (59, 130, 246))]
    for i in range(6):
        top, bottom = palettes[i % 3]
        image = Image.new("RGB", (540, 540), top)
        draw = ImageDraw.Draw(image)
        for y in range(540):
            t = y / 539
            draw.line((0, y, 540, y), fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom)))
        draw.rounded_rectangle((50, 330, 490, 480), radius=24, fill=(255, 255, 255))
        draw.text((80, 380), "YOUR HEADLINE HERE", font=font(32), fill=top)
        entries.append((f"templates/post-{i + 1}.png", _png(image.resize((1080, 1080)))))
    return _zip(entries)


def _drum_loop(bpm, bars, pattern, rate=22050):
    """A mono 16-bit WAV: kick (k), snare (s) and hat (h) on a 16-step grid."""
    step = 60 / bpm / 4
    total = int(rate * step * 16 * bars)
    samples = [0.0] * total
    rng = random.Random(bpm)
    for bar in range(bars):
        for index, hits in enumerate(pattern):
            start = int((bar * 16 + index) * step * rate)
            for hit in hits:
                length = {"k": 0.25, "s": 0.18, "h": 0.05}[hit]
                for n in range(min(int(length * rate), total - start)):
                    t = n / rate
                    if hit == "k":
                        value = math.sin(2 * math.pi * (50 + 90 * math.exp(-t * 30)) * t) * math.exp(-t * 9)
                    elif hit == "s":
                        value = (rng.uniform(-1, 1) * 0.7 + math.sin(2 * math.pi * 190 * t) * 0.3) * math.exp(-t * 22)
                    else:
                        value = rng.uniform(-1, 1) * 0.35 * math.exp(-t * 80)
                    samples[start + n] += value * 0.55
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"".join(struct.pack("<h", int(max(-1.0, min(1.0, s)) * 32000)) for s in samples))
    return out.getvalue()


def drum_loops():
    boom_bap = ["kh", "h", "h", "h", "sh", "h", "kh", "h", "h", "kh", "kh", "h", "sh", "h", "h", "h"]
    laid_back = ["kh", "", "h", "", "sh", "", "h", "k", "h", "k", "h", "", "sh", "", "h", "h"]
    return _zip([
        ("README.txt", "Two drum loops, 22.05 kHz mono WAV, royalty free for your tracks.\n"),
        ("loops/boom-bap-86bpm.wav", _drum_loop(86, 2, boom_bap)),
        ("loops/laid-back-78bpm.wav", _drum_loop(78, 2, laid_back)),
    ])
