"""Demo data for `make run`: an admin, two sellers, a customer, and their products.

Loaded only into a database without users, so it never touches a real shop.
Products go through the same code as a seller's upload (products.py), their
covers through the real thumbnail pipeline (images.py, called here directly so
the thumbnails are there when the shop opens), and the moderation decisions
through moderation.py.
"""

import datetime
import io

from shop.accounts import users as accounts
from shop import config
from shop.operations import demo_files
from shop.catalog import images
from shop.catalog import moderation
from shop.accounts import notifications
from shop.catalog import products
from models import Product, User, db, utcnow
from shop.money import decimal_amount

DEMO_PASSWORD = "demo-pass-123"
DEMO_ACCOUNTS = [
    ("admin", "Ada Admin", "admin@example.com"),
    ("seller", "Sam Seller", "sam@example.com"),
    ("seller", "Priya Patel", "priya@example.com"),
    ("customer", "Casey Customer", "casey@example.com"),
]
SAM, PRIYA = "sam@example.com", "priya@example.com"


def _guide(topic, chapters):
    """Sections of a short guide: one page per chapter, with a few paragraphs each."""
    return [(heading, [f"{text}", f"This chapter of {topic} ends with a one-page checklist you can print and "
                                  f"keep next to your desk."]) for heading, text in chapters]


def _resume():
    return demo_files.pdf("Minimal Résumé Template", "Two layouts, one page each. Edit in any PDF editor.", [
        ("Layout A: one column", ["Name and headline at the top, then experience, education and skills.",
                                  "Keep each role to three lines: what you did, how, and the result."]),
        ("Layout B: sidebar", ["Contact details and skills in a narrow column on the left; experience on the right.",
                               "Use it when you have many tools or languages to list."]),
    ], colour=(15, 76, 129))


def _budget():
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
              "October", "November", "December"]
    return demo_files.pdf("Budget Planner", "A calm, monthly way to see where the money goes.", [
        ("How to use it", ["Write your income at the top of each month, then your fixed costs.",
                           "What is left is yours to plan: savings first, then everything else."]),
    ], colour=(21, 128, 61), table=(["Month", "Income", "Fixed costs", "Savings", "Left"],
                                    [[m, "", "", "", ""] for m in months]))


def _meals():
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    return demo_files.pdf("Weekly Meal Planner", "Plan seven days of meals and the shopping list in one go.", [
        ("Planning in ten minutes", ["Start with the evenings you are busy: plan leftovers for them.",
                                     "Then fill the rest, and copy the ingredients to the shopping list."]),
    ], colour=(234, 88, 12), table=(["Day", "Breakfast", "Lunch", "Dinner"], [[d, "", "", ""] for d in days]))


def _capitals():
    pairs = [("France", "Paris"), ("Japan", "Tokyo"), ("Kenya", "Nairobi"), ("Canada", "Ottawa"),
             ("Peru", "Lima"), ("India", "New Delhi"), ("Norway", "Oslo"), ("Egypt", "Cairo"),
             ("Australia", "Canberra"), ("Chile", "Santiago"), ("Vietnam", "Hanoi"), ("Ghana", "Accra")]
    return demo_files.pdf("World Capitals Flashcards", "Print, cut along the lines, and quiz each other.", [
        ("How to play", ["Show the country; whoever names the capital first keeps the card.",
                         "Twelve cards to start; the table on the next page has the answers."]),
    ], colour=(14, 116, 144), table=(["Country", "Capital"], pairs))


# Each product: seller, title, label, price (minor units), description, cover (colours, motif),
# the file's name and a function that makes it. Covers are top colour, bottom colour, accent.
PRODUCTS = [
    (SAM, "Minimal Résumé Template", "Template", 900,
     "A clean, one-page résumé in two layouts that recruiters can scan in seconds.\n\n"
     "Print-ready PDF, A4 and US Letter margins, with notes on what to put where.",
     ((12, 44, 84), (20, 140, 150), (255, 255, 255)), "pages", "minimal-resume-template.pdf", _resume),
    (SAM, "Line Icon Pack", "Icons", 1400,
     "Twenty-four crisp line icons for apps and websites, as transparent PNG files.\n\n"
     "Consistent stroke width and optical size, so they sit well together in any interface.",
     ((88, 28, 135), (219, 39, 119), (255, 255, 255)), "grid", "line-icon-pack.zip",
     lambda: demo_files.icon_pack()),
    (SAM, "Budget Planner", "Printable", 750,
     "Twelve months of simple budgeting: income, fixed costs, savings and what is left.\n\n"
     "Fill it in by hand or in a PDF editor. Includes a one-page guide to getting started.",
     ((6, 95, 70), (132, 204, 22), (236, 253, 245)), "chart", "budget-planner.pdf", _budget),
    (SAM, "Social Media Post Kit", "Templates", 1900,
     "Six square post templates in three colourways, ready for your headline.\n\n"
     "1080 × 1080 PNG files that look sharp on every feed.",
     ((249, 115, 22), (190, 24, 93), (255, 237, 213)), "circles", "social-media-post-kit.zip",
     lambda: demo_files.social_kit()),
    (SAM, "Lo-fi Drum Loops Vol. 1", "Audio", 1200,
     "Two warm, dusty drum loops for beats, podcasts and videos.\n\n"
     "WAV files, royalty free for your own tracks.",
     ((30, 27, 75), (109, 40, 217), (196, 181, 253)), "bars", "lofi-drum-loops-vol-1.zip",
     lambda: demo_files.drum_loops()),
    (SAM, "Watercolor Texture Pack", "Textures", 1100,
     "Six soft watercolour washes to lay behind text, logos and photos.\n\n"
     "512 × 512 PNG files; tile them or stretch them.",
     ((191, 219, 254), (254, 215, 170), (147, 197, 253)), "blobs", "watercolor-texture-pack.zip",
     lambda: demo_files.texture_pack()),
    (PRIYA, "Python for Data Cleaning", "E-book", 2400,
     "A practical e-book on turning messy spreadsheets into tidy data with Python.\n\n"
     "Short chapters with real examples: missing values, dates, duplicates and text.",
     ((15, 23, 42), (30, 64, 175), (56, 189, 248)), "code", "python-for-data-cleaning.pdf",
     lambda: demo_files.pdf("Python for Data Cleaning", "Tidy data from messy spreadsheets, step by step.",
                            _guide("Python for Data Cleaning", [
                                ("1. Reading what you were given", "Open files as they are; never fix data by hand."),
                                ("2. Missing values", "Decide per column whether a gap means zero, unknown or none."),
                                ("3. Dates and times", "Parse dates once, store them in UTC, format them last."),
                                ("4. Duplicates", "Define what makes two rows the same before removing any."),
                            ]), colour=(30, 64, 175))),
    (PRIYA, "Weekly Meal Planner", "Printable", 500,
     "Plan a week of meals and the shopping list in ten minutes.\n\n"
     "A printable PDF with a seven-day grid and tips for busy evenings.",
     ((250, 204, 21), (234, 88, 12), (255, 255, 255)), "circles", "weekly-meal-planner.pdf", _meals),
    (PRIYA, "Startup Pitch Deck Outline", "Guide", 1500,
     "The twelve slides investors expect, in the order they expect them, with notes for each.\n\n"
     "A short guide plus an outline you can copy into any presentation tool.",
     ((17, 17, 17), (153, 27, 27), (239, 68, 68)), "blocks", "startup-pitch-deck-outline.pdf",
     lambda: demo_files.pdf("Startup Pitch Deck Outline", "Twelve slides, in order, with notes.", _guide(
         "the pitch deck outline", [("The problem", "One sentence, one customer, one number."),
                                    ("The solution", "Show it working before you explain how it works."),
                                    ("The ask", "How much, for how long, and what it will prove.")]),
         colour=(153, 27, 27))),
    (PRIYA, "Mindful Mornings Journal", "Journal", 800,
     "Thirty mornings of gentle prompts to start the day with intention.\n\n"
     "Printable PDF; one page per day with space to write.",
     ((196, 181, 253), (251, 207, 232), (253, 186, 116)), "sun", "mindful-mornings-journal.pdf",
     lambda: demo_files.pdf("Mindful Mornings Journal", "Thirty mornings, one gentle prompt each.", [
         (f"Day {day}", [prompt, "Write for five minutes without stopping. Nobody else will read it."])
         for day, prompt in enumerate(["What would make today a good day?", "What are you grateful for?",
                                       "What can you let go of today?"], 1)], colour=(124, 58, 237))),
    (PRIYA, "World Capitals Flashcards", "Education", 400,
     "Printable flashcards for learning the world's capitals at home or in class.\n\n"
     "Cut along the lines and play: the answers are on the last page.",
     ((8, 145, 178), (30, 58, 138), (255, 255, 255)), "globe", "world-capitals-flashcards.pdf", _capitals),
    (PRIYA, "Houseplant Care Guide", "Guide", 600,
     "Keep twenty common houseplants happy: light, water, soil and what the leaves are telling you.\n\n"
     "An illustrated PDF guide with a watering calendar.",
     ((20, 83, 45), (101, 163, 13), (187, 247, 208)), "leaves", "houseplant-care-guide.pdf",
     lambda: demo_files.pdf("Houseplant Care Guide", "Light, water, soil, and reading the leaves.", _guide(
         "the houseplant guide", [("Light", "Most houseplants want bright light that does not touch them."),
                                  ("Water", "Water when the top two centimetres of soil are dry."),
                                  ("Leaves", "Yellow and soft means too much water; brown and crisp, too little.")]),
         colour=(21, 128, 61))),
]

# Waiting for the admin's decision when the demo opens.
PENDING = [
    (SAM, "Retro Sunset Wallpapers", "Wallpapers", 300,
     "Five retro sunset wallpapers for desktop and phone.\n\nPNG files up to 2560 × 1440.",
     ((76, 29, 149), (251, 113, 133), (253, 224, 71)), "sun", "retro-sunset-wallpapers.zip",
     lambda: demo_files.texture_pack(count=5, seed=11)),
    (PRIYA, "Indian Street Food Recipes", "E-book", 1300,
     "Twenty street food classics from Mumbai to Kolkata, made at home.\n\n"
     "Step-by-step recipes with shopping lists.",
     ((220, 38, 38), (249, 115, 22), (254, 240, 138)), "circles", "indian-street-food-recipes.pdf",
     lambda: demo_files.pdf("Indian Street Food Recipes", "Twenty classics, made at home.", _guide(
         "the recipe book", [("Pav bhaji", "Butter, potatoes and patience."),
                             ("Pani puri", "The water makes it: mint, tamarind and cold.")]),
         colour=(220, 38, 38))),
]

# Rejected once, so the seller area and the notifications page show a reason.
REJECTED = (SAM, "Stock Photo Mega Bundle", "Photos", 2900,
            "Five hundred stock photos for any project.",
            ((71, 85, 105), (148, 163, 184), (255, 255, 255)), "grid", "stock-photo-mega-bundle.zip",
            lambda: demo_files.texture_pack(count=2, seed=5),
            "Several photos in the preview are from other photographers' portfolios. Upload only work you "
            "own the rights to, and list what the bundle really contains.")


# Covers light enough at the bottom to want dark lettering.
DARK_TEXT = {"Watercolor Texture Pack"}


def _add(spec, sellers, index):
    email, title, label, price, description, colours, motif, file_name, make_file = spec[:9]
    seller = sellers[email]
    cover = demo_files.cover(title, label, seller.name, colours, motif, seed=index,
                             dark_text=title in DARK_TEXT)
    form = {"title": title, "description": description, "price": decimal_amount(price, config.CURRENCY)}
    with products.StagedFiles() as staged, db.atomic():
        product = products.create_product(seller, form, products.Upload(file_name, io.BytesIO(make_file())),
                                          products.Upload("cover.jpg", io.BytesIO(cover)), staged)
    images.process_thumbnail(product.id, product.thumbnail_original, timeout=120)
    return product


def _backdate(product, days):
    when = utcnow() - datetime.timedelta(days=days, hours=product.id)
    Product.update(created_at=when - datetime.timedelta(days=2), updated_at=when,
                   approved_at=when if product.status == "approved" else None).where(
        Product.id == product.id).execute()


def load():
    """Load the demo shop into an empty database; returns False if it has users."""
    if User.select().exists():
        return False
    # One transaction: a load that fails part-way leaves an empty shop, so it can simply run again.
    with db.atomic():
        _load()
    return True


def _load():
    users = {email: accounts.create_user(name, email, DEMO_PASSWORD, role) for role, name, email in DEMO_ACCOUNTS}
    admin = users[DEMO_ACCOUNTS[0][2]]
    latest = {}
    for index, spec in enumerate(PRODUCTS):
        product = _add(spec, users, index)
        review = moderation.approve(product.id, admin)
        _backdate(Product.get_by_id(product.id), days=len(PRODUCTS) - index)
        latest[spec[0]] = review
    for index, spec in enumerate(PENDING):
        _backdate(_add(spec, users, 100 + index), days=0)
    rejected = _add(REJECTED, users, 200)
    rejected_review = moderation.reject(rejected.id, admin, REJECTED[9])
    # A little history on the sellers' notifications pages; no email goes to the demo addresses.
    for review in latest.values():
        notifications.product_approved(review.id, email=False)
    notifications.product_rejected(rejected_review.id, email=False)


def print_logins(fresh=True):
    if not User.select().where(User.email == DEMO_ACCOUNTS[0][2]).exists():
        return
    print("  Demo logins (password for all: %s):" % DEMO_PASSWORD)
    for role, name, email in DEMO_ACCOUNTS:
        print(f"    {role:<9} {email}")
    print()
