"""Personal names in a sentence, by capitalisation heuristics (no model needed).

A name is (a) a run of Arabic naming particles and capitalised words ("Abu Musab al-Albani"),
(b) two or more capitalised words in a row that are not a known place, group or religious term
("Lavdrim Muhaxheri"), or (c) one capitalised word right after "named", "called", "my friend"…
Countries, big cities, groups and religious words are public knowledge and do not identify anyone.
"""

from __future__ import annotations

import re

# Public words that are capitalised but identify no one.
PUBLIC_WORDS = frozenset(
    w.lower()
    for w in """
    I I'm I've I'd I'll God Allah Prophet Muhammad Mohammed Quran Koran Qur'an Islam Islamic Muslim Muslims
    Sharia Shariah Sunni Shia Shiite Christian Christians Jew Jews Yazidi Yazidis Kurd Kurds Kurdish
    Arab Arabs Arabic English French Albanian Albanians Bosnian Bosnians German Germans Turkish Russian
    Chechen Chechens European Europeans Western West East Middle ISIS ISIL IS Daesh Daech State
    Caliphate Khilafah Emirate Nusra Qaeda Al-Qaeda Taliban Army Free Syrian YPG SDF PKK Peshmerga
    Coalition Assad Baghdadi Zarqawi Adnani Laden Obama Trump Erdogan Putin Syria Iraq Turkey Raqqa
    Mosul Aleppo Idlib Deir Ezzor Zor Kobani Manbij Tabqa Baghouz Hasakah Damascus Homs Palmyra Fallujah
    Ramadi Baghdad Kosovo Albania Bosnia Herzegovina Sarajevo Pristina Tirana Skopje Macedonia Serbia
    Belgium Brussels France Paris Germany Berlin Britain London England UK USA US America American
    Europe Austria Vienna Sweden Netherlands Denmark Tunisia Morocco Egypt Jordan Lebanon Libya Saudi
    Arabia Gaziantep Istanbul Ankara Urfa Kilis Hatay Antakya Reyhanli Al Hol Roj Ramadan Eid Friday
    Monday Tuesday Wednesday Thursday Saturday Sunday January February March April May June July
    August September October November December Facebook Telegram WhatsApp YouTube Twitter Instagram
    Internet Hell Paradise Jannah Hijra Jihad Mujahideen Mujahid Ummah Emir Amir Sheikh Mr Mrs Dr
    A An The One Un Une Le La Les Des
    Tunisian Tunisians Moroccan Moroccans Algerian Algerians Algeria Egyptian Egyptians Libyan Libyans
    Syrian Syrians Iraqi Iraqis Saudis Jordanian Jordanians Lebanese Palestinian Palestinians Yemeni
    Belgian Belgians Dutch British Brits Swedish Swede Swedes Danish Dane Danes Austrian Austrians
    Italian Italians Spanish Spaniard Spaniards Uzbek Uzbeks Tajik Tajiks Kazakh Kazakhs Dagestani
    Dagestanis Somali Somalis Nigerian Nigerians Turk Turks Americans Canadian Canadians Australian
    Australians Afghan Afghans Pakistani Pakistanis Indonesian Indonesians Kosovar Kosovars Bosniak
    Bosniaks Uighur Uyghur Uighurs Uyghurs Azeri Azeris Circassian Circassians Shiites Yazidis
    Tunisien Tunisienne Tunisiens Marocain Marocaine Marocains Algérien Algérienne Algériens Syrien
    Syrienne Syriens Irakien Irakienne Irakiens Égyptien Égyptiens Libyen Libyens Belge Belges
    Français Française Anglais Anglaise Britannique Britanniques Allemand Allemande Allemands Russe
    Russes Tchétchène Tchétchènes Ouzbek Ouzbeks Turc Turcs Turque Kurde Kurdes Yézidi Yézidie
    Yézidis Européen Européens Américain Américains Albanais Albanaise Kosovar Bosniaque Bosniaques
    Red Crescent Cross Croissant-Rouge Croix-Rouge UN UNHCR UNICEF NGO ONG Interpol Europol
    """.split()
)
# Arabic naming particles: Abu Hamza, Umm Sumayyah, Ibn Taymiyyah, al-Almani.
PARTICLES = frozenset({"abu", "umm", "ibn", "bin", "bint", "al", "el"})
# Words after which one capitalised word is a person's name.
TRIGGERS = re.compile(
    r"\b(?:named|called|name (?:is|was)|known as|my (?:friend|brother|cousin|uncle|husband|wife|sister)|"
    r"(?:brother|sister|commander|emir|amir|sheikh|imam|judge|recruiter|mr|mrs|dr)\.?)\s+$",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿĀ-žḀ-ỿ][\w'’-]*", re.UNICODE)


def _is_cap(word: str) -> bool:
    return word[:1].isupper() and not (len(word) > 1 and word.isupper())


def _is_particle(word: str) -> bool:
    w = word.lower()
    return w in PARTICLES or w.startswith(("al-", "el-"))


def _is_public(word: str) -> bool:
    return word.lower().strip("'’") in PUBLIC_WORDS


def find_names(text: str, common_words: frozenset[str] = frozenset()) -> list[str]:
    """Personal names found in `text`, in order. `common_words`: lower-case ordinary words, so a
    sentence-initial "Then Ahmed" is not read as a two-word name."""
    tokens = [(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    names: list[str] = []
    i = 0
    while i < len(tokens):
        word, start, _ = tokens[i]
        if not (_is_cap(word) or _is_particle(word)):
            i += 1
            continue
        j = i
        while j < len(tokens) and (_is_cap(tokens[j][0]) or _is_particle(tokens[j][0])):
            # A name run stops at a gap of punctuation other than a space ("Ali, Omar").
            if j > i and text[tokens[j - 1][2] : tokens[j][1]].strip():
                break
            j += 1
        run = [t[0] for t in tokens[i:j]]
        sentence_start = i == 0 or bool(re.search(r"[.!?؟]\s*$", text[: tokens[i][1]]))
        if sentence_start and run and (run[0].lower() in common_words or run[0].lower() in PUBLIC_WORDS):
            run = run[1:]
        if any(w.lower().removeprefix("al-").removeprefix("el-") in PUBLIC_WORDS for w in run[1:]):
            # "Abu Bakr al-Baghdadi": a public figure's full name.
            run = []
        private = [w for w in run if not _is_public(w) and not _is_particle(w)]
        has_particle = any(w.lower() in {"abu", "umm", "ibn", "bint"} for w in run)
        if private and (len(private) >= 2 or (has_particle and len(run) >= 2)):
            names.append(" ".join(run))
        elif len(private) == 1 and len(run) == 1 and not sentence_start and TRIGGERS.search(text[:start]):
            names.append(run[0])
        i = max(j, i + 1)
    return names


# Details other than names that point at one person or place (issue 15: "precise places
# (addresses, buildings, streets) or details that could identify someone"): a phone number, an
# identity or card number, a street address. A city or a year identifies no one.
_PHONE = r"(?:\+|\bplus\s+)?\d(?:[ .-]?\d){6,}"
_ID_NUMBER = (
    r"(?i:\b(?:my|his|her|their|our|the)\s+(?:phone\s+|mobile\s+|ID\s+|identity\s+|card\s+|passport\s+|"
    r"registration\s+|house\s+)?number\b(?!\s+of\b)[^.;!?]{0,30}?\b\d{3,}"
    r"|\b(?:ID|passport|identity card)(?:\s+(?:number|no\.?))?\s*(?:is|was|:)\s*\d{3,})"
)
_STREET = (
    r"\b(?:[Rr]ue|[Aa]venue|[Cc]haussée|[Bb]oulevard|[Rr]ruga|[Uu]lica)\s+(?:(?:de|des|du|la|le|d')\s+)*"
    r"[A-ZÀ-Ý][\w'’-]+"
    r"|\b[A-Z][\w'’-]+(?:[ -](?:al|el|[A-Z][\w'’-]*))*[ -](?:[Ss]treet|[Rr]oad|[Aa]venue|[Ss]quare)\b"
    r"|\b(?:number|no\.?|house)\s+\d{1,4},?\s+(?:[Rr]ue|[Ss]treet|[Rr]oad|[Aa]venue)\b"
)
# Arabic and French: "شارع ريبوكور" (Ribaucourt street), "الخيمة رقم اثني عشر" (tent number twelve),
# "numéro 14".
_AR_NUMBER = r"(?:\d+|[\u0660-\u0669]+|واحد|اثن\w*|ثلاث\w*|أربع\w*|خمس\w*|ست\w*|سبع\w*|ثمان\w*|تسع\w*|عشر\w*)"
_OTHER = (
    rf"(?<![\u0600-\u06FF])شارع\s+[\u0600-\u06FF]+|(?<![\u0600-\u06FF])(?:ال)?رقم\s+{_AR_NUMBER}"
    r"|\bnuméro\s+\d+"
)
DETAILS = re.compile(rf"{_PHONE}|{_ID_NUMBER}|{_STREET}|{_OTHER}")


def find_details(text: str) -> list[str]:
    """Phone numbers, identity numbers and street addresses in `text`, in order."""
    return [m.group(0).strip() for m in DETAILS.finditer(text)]
