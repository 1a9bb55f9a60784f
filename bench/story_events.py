# ruff: noqa: E501 - one event per entry reads better than wrapped strings
"""A labelled set for story clustering, written for this benchmark (not scraped).

Each event below is a hand-written description: who, two or three ways of saying what
happened, what it happened to, and facts that reporters put in ledes. `articles()` turns
each into 5-9 headlines with ledes in the styles outlets use (straight, "Report:",
explainer, quote-led, follow-up) spread over hours to three days. The events are chosen
to be hard where clustering goes wrong:
- near-misses: the same company or person in different events within days (Apple's
  recall and Apple's store; two Nvidia stories; three Fed/ECB rate stories);
- recurrences: a similar event weeks later (a second strike vote, a second launch);
- the same event told with different verbs and objects.
Templated text is more regular than real coverage: expect real-world recall lower.
"""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

START = datetime(2025, 3, 3, 8, tzinfo=UTC)


@dataclass(frozen=True)
class Event:
    day: float  # days after START
    who: str
    verbs: tuple[str, ...]
    whats: tuple[str, ...]
    facts: tuple[str, ...]


def e(day: float, who: str, verbs: str, whats: str, facts: str) -> Event:
    return Event(
        day, who, tuple(verbs.split(";")), tuple(whats.split(";")), tuple(facts.split(";"))
    )


EVENTS = [
    e(
        0,
        "Apple",
        "recalls;pulls;is recalling",
        "iPhone 16 chargers;USB-C chargers sold with the iPhone 16",
        "after reports of overheating in 12 countries;the recall covers 1.2 million units;customers get a free replacement",
    ),
    e(
        1,
        "Apple",
        "opens;unveils;cuts the ribbon on",
        "its first store in Mumbai;flagship Mumbai retail store",
        "the store sits in the Jio World Drive mall;Tim Cook greeted the first customers;India is its fastest growing market",
    ),
    e(
        2,
        "Nvidia",
        "unveils;announces;shows off",
        "Blackwell Ultra AI chips;its Blackwell Ultra GPU line",
        "at the GTC conference in San Jose;Jensen Huang promised shipments in the second half;the chips target AI data centers",
    ),
    e(
        3.5,
        "Nvidia",
        "faces;is hit with;draws",
        "an antitrust probe in China;a Chinese antitrust investigation",
        "China's market regulator cited the Mellanox acquisition;the probe comes amid US export curbs;shares fell 3 percent",
    ),
    e(
        4,
        "Federal Reserve",
        "holds;keeps;leaves",
        "interest rates steady;its benchmark rate unchanged",
        "at 4.25 to 4.5 percent;Jerome Powell cited tariff uncertainty;two cuts are still projected this year",
    ),
    e(
        5,
        "European Central Bank",
        "cuts;lowers;trims",
        "interest rates by a quarter point;its deposit rate to 2.5 percent",
        "the sixth cut since June;Christine Lagarde said inflation is easing;growth forecasts were lowered",
    ),
    e(
        33,
        "Federal Reserve",
        "holds;keeps;leaves",
        "interest rates steady again;its benchmark rate unchanged for a third meeting",
        "Powell warned tariffs could lift prices;markets still expect a cut in June;the vote was unanimous",
    ),
    e(
        6,
        "Boeing",
        "delays;pushes back",
        "777X deliveries to 2026;first deliveries of the 777X jet",
        "certification testing found engine mount cracks;Emirates is the launch customer;the program is six years late",
    ),
    e(
        7,
        "SpaceX",
        "launches;flies;sends up",
        "Starship on its eighth test flight;the eighth Starship test",
        "from Starbase in Texas;the booster was caught by the tower;the upper stage was lost over the Caribbean",
    ),
    e(
        30,
        "SpaceX",
        "launches;flies",
        "Starship on its ninth test flight;the ninth Starship test",
        "the first reuse of a Super Heavy booster;the ship reached space;debris fell near the Bahamas",
    ),
    e(
        8,
        "Microsoft",
        "lays off;cuts;eliminates",
        "6,000 jobs;about 3 percent of its workforce",
        "managers and engineers are affected;the cuts hit LinkedIn too;the company posted record profit",
    ),
    e(
        9,
        "Microsoft",
        "launches;releases;rolls out",
        "Copilot Vision for Windows;the Copilot Vision feature on Windows PCs",
        "it can see what is on screen;US users get it first;it is opt in",
    ),
    e(
        10,
        "Tesla",
        "recalls;is recalling",
        "Cybertrucks over loose panels;46,000 Cybertrucks",
        "a stainless steel panel can detach;NHTSA published the notice;owners get new adhesive",
    ),
    e(
        11,
        "Tesla",
        "reports;posts;announces",
        "a 13 percent drop in deliveries;first quarter deliveries down 13 percent",
        "336,681 cars delivered;analysts expected 390,000;Model Y changeover slowed output",
    ),
    e(
        12,
        "OpenAI",
        "raises;secures;closes",
        "$40 billion in funding;a $40 billion round led by SoftBank",
        "valuing it at $300 billion;SoftBank puts in $30 billion;the money funds Stargate",
    ),
    e(
        13,
        "OpenAI",
        "releases;launches;ships",
        "GPT-4.1 models;the GPT-4.1 family in its API",
        "three sizes including nano;a one million token context;coding benchmarks improved",
    ),
    e(
        14,
        "Google",
        "loses;is ruled against in",
        "ad tech antitrust case;the Justice Department's ad tech lawsuit",
        "Judge Leonie Brinkema found illegal monopolies;remedies come later;Google plans to appeal",
    ),
    e(
        15,
        "Google",
        "buys;acquires;agrees to buy",
        "Wiz for $32 billion;cloud security startup Wiz",
        "its largest deal ever;Wiz was founded in Israel;regulators must approve",
    ),
    e(
        16,
        "Meta",
        "launches;releases;debuts",
        "Llama 4 models;its Llama 4 Scout and Maverick models",
        "mixture of experts design;a 10 million token context;open weights",
    ),
    e(
        17,
        "Meta",
        "goes on trial;faces trial;heads to court",
        "in FTC antitrust case;over the FTC's Instagram and WhatsApp lawsuit",
        "Mark Zuckerberg testified;the FTC wants the deals unwound;the trial runs for weeks",
    ),
    e(
        18,
        "Amazon",
        "launches;debuts;rolls out",
        "Alexa Plus assistant;the generative AI Alexa+",
        "free for Prime members;$19.99 a month otherwise;early access starts in the US",
    ),
    e(
        19,
        "Amazon",
        "launches;sends up",
        "first Kuiper internet satellites;its first 27 Project Kuiper satellites",
        "on an Atlas V rocket;from Cape Canaveral;a rival to Starlink",
    ),
    e(
        20,
        "Intel",
        "names;appoints;picks",
        "Lip-Bu Tan as CEO;former Cadence chief Lip-Bu Tan to lead the company",
        "replacing Pat Gelsinger;shares jumped 11 percent;he starts next week",
    ),
    e(
        21,
        "Intel",
        "delays;pushes back",
        "Ohio chip plant to 2030;completion of its Ohio fab",
        "the $28 billion project slips five years;demand is weaker;CHIPS Act money is at stake",
    ),
    e(
        22,
        "TikTok",
        "wins;gets;is granted",
        "75-day extension on US ban;another reprieve from the US ban",
        "Trump signed an executive order;talks with buyers continue;Oracle is a bidder",
    ),
    e(
        23,
        "Nintendo",
        "reveals;unveils;announces",
        "Switch 2 price and launch date;the Switch 2's $449 price",
        "it launches June 5;Mario Kart World is bundled;preorders start April 9",
    ),
    e(
        45,
        "Nintendo",
        "delays;postpones",
        "Switch 2 preorders in the US;US preorders for the Switch 2",
        "because of tariffs;the price is unchanged for now;Canada is affected too",
    ),
    e(
        24,
        "Samsung",
        "launches;unveils",
        "Galaxy S25 Edge;the thin Galaxy S25 Edge phone",
        "5.8 millimeters thick;a 200 megapixel camera;it costs $1,099",
    ),
    e(
        25,
        "Samsung",
        "reports;posts",
        "a 21 percent profit drop;weaker first quarter profit",
        "chip earnings fell;phone sales held up;HBM sales to Nvidia lag",
    ),
    e(
        26,
        "Volkswagen",
        "recalls;is recalling",
        "ID.4 SUVs over door handles;98,000 ID.4 electric SUVs",
        "doors can open while driving;water gets into the handles;owners will be notified",
    ),
    e(
        27,
        "Volkswagen",
        "cuts;slashes",
        "35,000 jobs in Germany;jobs at its German plants",
        "by 2030 under a union deal;no plants will close;output capacity drops",
    ),
    e(
        28,
        "UK government",
        "bans;outlaws",
        "disposable vapes;sales of single-use vapes",
        "from June 1;retailers face fines;the aim is to cut litter and youth vaping",
    ),
    e(
        29,
        "Spain and Portugal",
        "hit by;suffer",
        "massive power outage;a nationwide blackout",
        "trains stopped and traffic lights failed;power came back overnight;the cause is investigated",
    ),
    e(
        31,
        "Pope Francis",
        "dies;has died",
        "at 88;aged 88",
        "the Vatican announced his death on Easter Monday;he led the church for 12 years;a conclave will follow",
    ),
    e(
        44,
        "Conclave",
        "elects;chooses",
        "Robert Prevost as pope;first American pope Leo XIV",
        "white smoke rose on the second day;he took the name Leo XIV;he served in Peru",
    ),
    e(
        32,
        "Canada",
        "votes;holds election",
        "Mark Carney's Liberals win;Liberals win federal election",
        "Carney keeps his job as prime minister;Pierre Poilievre lost his seat;a minority government",
    ),
    e(
        34,
        "Germany",
        "elects;confirms",
        "Friedrich Merz as chancellor;Merz chancellor after second vote",
        "he failed the first round;the coalition includes the SPD;a first in postwar history",
    ),
    e(
        35,
        "Coinbase",
        "discloses;reveals",
        "data breach and extortion attempt;a customer data breach",
        "overseas support staff were bribed;the hackers asked for $20 million;costs could reach $400 million",
    ),
    e(
        36,
        "Nvidia",
        "reports;posts",
        "record quarterly revenue;revenue up 69 percent",
        "data center sales hit $39 billion;H20 export ban cost $4.5 billion;guidance beat forecasts",
    ),
    e(
        37,
        "Netflix",
        "raises;hikes",
        "subscription prices in the US;prices for its plans",
        "the standard plan now costs $17.99;the ad tier rises to $7.99;subscribers topped 300 million",
    ),
    e(
        38,
        "Disney",
        "names;picks",
        "new chief executive;successor to Bob Iger",
        "the board ran a two year search;the handover is next year;shares rose",
    ),
    e(
        39,
        "Airbus",
        "raises;increases",
        "A320 production to 75 a month;its narrowbody output target",
        "by 2027;supply chains remain tight;engines are the bottleneck",
    ),
    e(
        40,
        "Anthropic",
        "releases;launches",
        "Claude 4 models;Claude Opus 4 and Sonnet 4",
        "they lead coding benchmarks;agents can run for hours;new safety level ASL-3",
    ),
    e(
        41,
        "Anthropic",
        "wins;gets",
        "ruling in authors' copyright case;a fair use ruling on training",
        "Judge William Alsup ruled on books;pirated copies go to trial;authors sued last year",
    ),
    e(
        42,
        "Uber",
        "partners with;teams up with",
        "Waymo in Austin;Waymo for Austin robotaxis",
        "riders can hail driverless Jaguars;service area covers 37 square miles;Atlanta is next",
    ),
    e(
        43,
        "Waymo",
        "expands;extends",
        "robotaxi service to Silicon Valley;driverless rides in San Jose",
        "more than 250,000 paid rides a week;highway driving is coming;Tesla is a rival",
    ),
    e(
        46,
        "WHO",
        "adopts;approves",
        "pandemic agreement;a global pandemic treaty",
        "after three years of talks;the US did not take part;countries share vaccines",
    ),
    e(
        47,
        "Harvard",
        "sues;takes legal action against",
        "Trump administration over funding freeze;the government over $2.2 billion freeze",
        "the university says the freeze is illegal;grants were cut;other universities watch",
    ),
    e(
        48,
        "India and Pakistan",
        "agree to;announce",
        "ceasefire;a halt to military strikes",
        "after four days of fighting;the US helped broker it;violations were reported hours later",
    ),
    e(
        49,
        "Spotify",
        "reports;posts",
        "first annual profit;its first full-year profit",
        "net income reached 1.1 billion euros;monthly users rose to 675 million;shares hit a record",
    ),
    e(
        50,
        "Spotify",
        "raises;hikes",
        "premium prices in Europe;subscription prices in 40 markets",
        "an extra euro a month;the US is not included yet;the last rise was in 2024",
    ),
    e(
        51,
        "Rivian",
        "recalls;is recalling",
        "R1S and R1T trucks;24,000 vehicles over seat belts",
        "a seat belt anchor may fail;no injuries reported;a software update follows",
    ),
    e(
        52,
        "Ford",
        "recalls;is recalling",
        "Explorer SUVs over seat belts;1.1 million rear view cameras",
        "the camera image can freeze;the fix is a software update;regulators opened a probe",
    ),
    e(
        53,
        "Hurricane Erin",
        "strengthens;grows",
        "into Category 5 storm;to a Category 5 hurricane",
        "winds reached 160 mph;it passed north of the Caribbean;the East Coast faces rip currents",
    ),
    e(
        54,
        "Texas",
        "floods;flash floods",
        "kill dozens in Hill Country;along the Guadalupe River",
        "the river rose 26 feet in 45 minutes;a summer camp was hit;rescuers search for the missing",
    ),
    e(
        55,
        "Air India",
        "crash;Boeing 787 crash",
        "in Ahmedabad kills 241;after takeoff from Ahmedabad",
        "one passenger survived;the plane hit a medical college hostel;investigators recovered the black boxes",
    ),
    e(
        56,
        "Nasdaq",
        "hits;closes at",
        "record high;an all-time high",
        "led by AI chip stocks;the S&P 500 rose too;trade deal hopes lifted markets",
    ),
    e(
        57,
        "Shein",
        "fined;is fined",
        "40 million euros in France;over misleading discounts",
        "the DGCCRF found fake price cuts;the fine is a record;Shein said it has fixed the issue",
    ),
    e(
        58,
        "Cloudflare",
        "blocks;starts blocking",
        "AI crawlers by default;AI bots from scraping sites",
        "publishers can charge per crawl;new sites get it on by default;it covers 20 percent of the web",
    ),
    e(
        59,
        "xAI",
        "launches;releases",
        "Grok 4;its Grok 4 model",
        "Elon Musk streamed the launch;a $300 a month tier;benchmarks lead on reasoning",
    ),
    e(
        60,
        "Windsurf",
        "deal;acquisition",
        "collapses as Google hires CEO;OpenAI deal falls apart",
        "Google pays $2.4 billion to license;Cognition buys the rest;OpenAI's exclusivity expired",
    ),
    e(
        61,
        "Jaguar Land Rover",
        "halts;stops",
        "production after cyberattack;output at UK plants after hack",
        "systems were shut down;dealers cannot register cars;the outage lasts weeks",
    ),
    e(
        62,
        "Figma",
        "prices;debuts",
        "IPO above range;shares on the NYSE",
        "priced at $33;shares tripled on the first day;it was valued at $19 billion",
    ),
    e(
        63,
        "Apple",
        "reports;posts",
        "record June quarter revenue;revenue up 10 percent",
        "iPhone sales rose 13 percent;tariffs cost $800 million;services hit a record",
    ),
]

_HEADLINES = (
    "{who} {verb} {what}",
    "{who} {verb} {what} {fact}",
    "Report: {who} {verb} {what}",
    "{who} {verb} {what}, {fact}",
    "What to know as {who} {verb} {what}",
    "{who} {verb} {what} — here's why",
    "Update: {who} {verb} {what}",
    "{who} officially {verb} {what}",
    "Breaking: {who} {verb} {what}",
)
_LEDES = (
    "{who} {verb} {what} on {weekday}: {fact0}. {fact1}.",
    "In a move announced {weekday}, {who} {verb} {what}. {Fact1}, and {fact2}.",
    "{Fact1}. That is the news after {who} {verb} {what}.",
    "{who} {verb} {what}, the company said. {Fact2}.",
)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class Labelled:
    event: int
    title: str
    lede: str
    published_at: datetime
    outlet: int


def articles(seed: int = 17) -> list[Labelled]:
    """Every event's coverage, in publication order."""
    rng = random.Random(seed)
    found = []
    for number, event in enumerate(EVENTS):
        for n in range(rng.randint(5, 9)):
            verb, what = rng.choice(event.verbs), rng.choice(event.whats)
            facts = list(event.facts)
            rng.shuffle(facts)
            facts += facts[:1] * (3 - len(facts))
            when = START + timedelta(
                days=event.day, hours=rng.uniform(0, 6) if n < 3 else rng.uniform(6, 72)
            )
            fields = {
                "who": event.who,
                "verb": verb,
                "what": what,
                "fact": facts[0],
                "fact0": facts[0],
                "fact1": facts[1],
                "fact2": facts[2],
                "Fact1": facts[1][:1].upper() + facts[1][1:],
                "Fact2": facts[2][:1].upper() + facts[2][1:],
                "weekday": _WEEKDAYS[when.weekday()],
            }
            title = rng.choice(_HEADLINES).format(**fields)
            lede = rng.choice(_LEDES).format(**fields)
            found.append(Labelled(number, title, lede, when, rng.randrange(40)))
    return sorted(found, key=lambda a: a.published_at)
