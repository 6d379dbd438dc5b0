"""Word lists the corpus templates draw from, written for this benchmark.

Kept as plain tuples so that ``random.choice`` on them costs nothing; the variety of the corpus
comes from combining them, not from any one list being long.
"""

from __future__ import annotations


def _split(text: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in text.split("|") if w.strip())


PRODUCTS = _split(
    "trail running shoes|insulated winter jacket|merino base layer|waterproof hiking boots|"
    "30L daypack|down sleeping bag|two-person tent|trekking poles|rain shell|fleece hoodie|"
    "camp stove|titanium mug|headlamp|softshell trousers|wool socks (3-pack)|climbing harness|"
    "bike helmet|cycling jersey|yoga mat|insulated water bottle|packable duffel|gore-tex gloves|"
    "kids' snow boots|travel pillow|solar lantern|compression sacks|approach shoes|beanie"
)
COLOURS = _split("black|navy|olive|sand|rust|slate grey|forest green|burgundy|ochre|sky blue")
SIZES = _split("XS|S|M|L|XL|XXL|EU 38|EU 42|EU 44|UK 7|UK 9|US 10|one size")
CARRIERS = _split("DHL|UPS|FedEx|DPD|Royal Mail|PostNL|Colissimo|Hermes|GLS|USPS")
CITIES = _split(
    "Leeds|Rotterdam|Lyon|Munich|Seville|Porto|Dublin|Gothenburg|Krakow|Bologna|Denver|Austin|"
    "Toronto|Melbourne|Auckland|Cape Town|Nairobi|Pune|Osaka|São Paulo|Zürich|Malmö|Ghent"
)
STREETS = _split(
    "Elm Street|Harbour Road|Rue des Lilas|Hauptstraße|Calle Mayor|Kerkstraat|Via Roma|"
    "Maple Avenue|Station Road|Old Mill Lane|Rua Augusta|Birch Close|Queen's Parade"
)
WEEKDAYS = _split("Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday")
ORDER_PROBLEMS = _split(
    "arrived with a broken zip|is the wrong size|never arrived|arrived damaged|"
    "was charged twice|is missing a part|is a different colour from the photo|"
    "shows as delivered but I don't have it|started peeling after two weeks|"
    "came without the rain cover|has a seam that is coming apart|was sent to my old address"
)
SHIP_STATUSES = _split(
    "in transit|out for delivery|delivered|awaiting collection|held at depot|"
    "label created|returned to sender|processing"
)
REFUND_REASONS = _split(
    "damaged on arrival|wrong item|late delivery|changed my mind|duplicate charge|"
    "item not as described|missing parts"
)

CLAIM_TYPES = _split(
    "motor|home buildings|home contents|travel|pet|landlord|small business|bicycle|gadget"
)
INCIDENTS = _split(
    "a burst pipe flooded the kitchen|hail damaged the roof tiles|my car was rear-ended at a "
    "junction|our bikes were stolen from the shed|a tree fell on the garden wall|the flight was "
    "cancelled and we lost the hotel booking|a storm blew in the conservatory glass|my laptop was "
    "dropped and the screen cracked|the dog needed surgery after swallowing a toy|water came "
    "through the ceiling from the flat above|someone keyed the side of the car overnight|"
    "lightning hit the chimney|the basement flooded after heavy rain|the suitcase was lost on a "
    "connecting flight|a pan fire damaged the hob and the cabinets above it"
)
DAMAGE_ITEMS = _split(
    "kitchen units|laminate flooring|rear bumper|boot lid|roof tiles|garden wall|sofa|"
    "television|ceiling plaster|carpet|windscreen|fence panels|wardrobe|boiler|laptop"
)
VEHICLES = _split(
    "2019 Ford Focus|2021 Toyota Corolla|2016 VW Golf|2022 Kia Niro|2018 BMW 320d|"
    "2020 Tesla Model 3|2015 Honda Jazz|2023 Skoda Octavia|2017 Renault Clio"
)
CLAIM_STATUSES = _split(
    "awaiting documents|under assessment|adjuster assigned|approved|partially approved|"
    "declined|settled|on hold pending police report"
)
DOCUMENTS = _split(
    "repair estimate|photos of the damage|police report|receipts for the damaged items|"
    "airline delay confirmation|vet's invoice|plumber's report|proof of ownership|"
    "the other driver's insurance details|a signed claim form"
)

LANGUAGES = _split("Python|TypeScript|Go|Rust|Java|Kotlin|C#|Ruby|SQL|Bash")
LIBRARIES = _split(
    "FastAPI|SQLAlchemy|pydantic|pandas|React|Next.js|Django|Flask|pytest|httpx|asyncio|"
    "Celery|Redis|Kafka|Terraform|Kubernetes|Docker|GitHub Actions|numpy|Spring Boot"
)
ERRORS = _split(
    "TypeError: 'NoneType' object is not subscriptable|"
    "sqlalchemy.exc.IntegrityError: UNIQUE constraint failed: users.email|"
    "ModuleNotFoundError: No module named 'yaml'|"
    "panic: runtime error: index out of range [3] with length 3|"
    "error[E0502]: cannot borrow `items` as mutable because it is also borrowed as immutable|"
    "java.lang.NullPointerException at com.brightpath.billing.InvoiceService.total|"
    "Uncaught TypeError: Cannot read properties of undefined (reading 'map')|"
    'ERROR: duplicate key value violates unique constraint "orders_pkey"|'
    "asyncio.exceptions.TimeoutError|"
    "KeyError: 'claim_id'|"
    "fatal: refusing to merge unrelated histories|"
    "OOMKilled: container exceeded memory limit"
)
FILES = _split(
    "src/billing/invoice.py|api/routes/orders.ts|internal/claims/service.go|"
    "app/models/user.rb|lib/parser.rs|services/notify/handler.py|web/components/Cart.tsx|"
    "migrations/0042_add_index.sql|deploy/helm/values.yaml|.github/workflows/ci.yml|"
    "tests/test_refunds.py|cmd/worker/main.go|src/main/java/com/brightpath/App.java"
)
FUNCTIONS = _split(
    "calculate_total|parseClaim|handle_webhook|retry_with_backoff|serialize_order|"
    "validateAddress|load_config|reconcile_payments|buildQuery|normalise_phone|chunk_documents"
)
BRANCHES = _split(
    "feature/refund-limits|fix/timezone-bug|chore/bump-deps|feature/claims-export|"
    "hotfix/payment-retry|refactor/db-session|feature/search-ranking"
)

KB_TOPICS = _split(
    "expense policy|remote work policy|parental leave|laptop replacement|VPN setup|"
    "travel booking|password manager rollout|incident on-call rota|data retention schedule|"
    "procurement thresholds|visitor access|security awareness training|annual leave carry-over|"
    "code review guidelines|customer data handling|vendor onboarding|home office allowance"
)
DEPARTMENTS = _split("Finance|People Ops|IT|Security|Legal|Facilities|Procurement|Engineering")
ROLES = _split(
    "team lead|finance business partner|IT service desk|data protection officer|"
    "line manager|people partner|security champion|procurement officer"
)

ASSISTANT_NAMES = _split("Ava|Sol|Juno|Atlas|Pip|Nora")
EMOJI = _split("🙂|👍|🎉|🙏|😅|✅|📦|🚲|⛺|❤️|👩‍💻|👨‍👩‍👧|🧑🏽‍🔧|🏳️‍🌈")
ACCENTED_NAMES = _split(
    "Zoë Brontë|José Núñez|François Lefèvre|Søren Kierkegård|Łukasz Wójcik|Ana Ionescu-Dănilă|"
    "Björn Ågren|Çağla Öztürk|Jürgen Müller|Inês Conceição|Dvořák Jiří|Siobhán Ní Bhriain"
)
