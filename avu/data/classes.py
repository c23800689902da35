"""Class lists of the five datasets, in the official index order.

These are constants of the benchmarks (the official code hard-codes them or derives
them from files that never change), so they are embedded here rather than read at
run time. Tests check them against ``../shared/datasets``.
"""

from __future__ import annotations

#: AVE: 28 event classes in ``categories.txt`` order, then background at index 28.
AVE_CATEGORIES: tuple[str, ...] = (
    "Church bell", "Male speech, man speaking", "Bark", "Fixed-wing aircraft, airplane",
    "Race car, auto racing", "Female speech, woman speaking", "Helicopter", "Violin, fiddle",
    "Flute", "Ukulele", "Frying (food)", "Truck", "Shofar", "Motorcycle", "Acoustic guitar",
    "Train horn", "Clock", "Banjo", "Goat", "Baby cry, infant cry", "Bus", "Chainsaw", "Cat",
    "Horse", "Toilet flush", "Rodents, rats, mice", "Accordion", "Mandolin",
)
AVE_BACKGROUND = 28
AVE_CLASSES: tuple[str, ...] = AVE_CATEGORIES + ("background",)

#: LLP / AVVP: the 25 classes hard-coded in the official dataloader.py and main_avvp.py.
LLP_CLASSES: tuple[str, ...] = (
    "Speech", "Car", "Cheering", "Dog", "Cat", "Frying_(food)", "Basketball_bounce", "Fire_alarm",
    "Chainsaw", "Cello", "Banjo", "Singing", "Chicken_rooster", "Violin_fiddle", "Vacuum_cleaner",
    "Baby_laughter", "Accordion", "Lawn_mower", "Motorcycle", "Helicopter", "Acoustic_guitar",
    "Telephone_bell_ringing", "Baby_cry_infant_cry", "Blender", "Clapping",
)

#: AVSBench S4: the 23 category folder names of Single-source/s4_data.
S4_CATEGORIES: tuple[str, ...] = (
    "ambulance_siren", "baby_laughter", "cap_gun_shooting", "cat_meowing", "chainsawing_trees",
    "coyote_howling", "dog_barking", "driving_buses", "female_singing", "helicopter",
    "horse_clip-clop", "lawn_mowing", "lions_roaring", "male_speech", "mynah_bird_singing",
    "playing_acoustic_guitar", "playing_glockenspiel", "playing_piano", "playing_tabla",
    "playing_ukulele", "playing_violin", "race_car", "typing_on_computer_keyboard",
)

#: AVSS: the keys of ``label2idx.json`` in file order; class index = position (0 = background).
AVSS_CLASSES: tuple[str, ...] = (
    "background", "accordion", "airplane", "axe", "baby", "bassoon", "bell", "bird", "boat", "boy",
    "bus", "car", "cat", "cello", "clarinet", "clipper", "clock", "dog", "donkey", "drum", "duck",
    "elephant", "emergency-car", "erhu", "flute", "frying-food", "girl", "goose", "guitar", "gun",
    "guzheng", "hair-dryer", "handpan", "harmonica", "harp", "helicopter", "hen", "horse",
    "keyboard", "leopard", "lion", "man", "marimba", "missile-rocket", "motorcycle", "mower",
    "parrot", "piano", "pig", "pipa", "saw", "saxophone", "sheep", "sitar", "sorna", "squirrel",
    "tabla", "tank", "tiger", "tractor", "train", "trombone", "truck", "trumpet", "tuba", "ukulele",
    "utv", "vacuum-cleaner", "violin", "wolf", "woman",
)

#: MUSIC-AVQA: the 42 answers in the official label order (first appearance in avqa-train.json,
#: as dumped in DG-SCT's ans_vocab.txt). Label index = position.
AVQA_ANSWERS: tuple[str, ...] = (
    "two", "cello", "congas", "zero", "no", "pipa", "six", "yes", "one", "four", "three", "seven",
    "five", "ukulele", "right", "piano", "left", "accordion", "clarinet", "guzheng",
    "more than ten", "nine", "indoor", "saxophone", "drum", "violin", "middle", "outdoor",
    "bagpipe", "bassoon", "acoustic_guitar", "banjo", "electric_bass", "ten", "eight", "flute",
    "simultaneously", "trumpet", "erhu", "xylophone", "tuba", "suona",
)
#: the 22 instruments among the answers (MUSIC-AVQA's instrument categories)
AVQA_INSTRUMENTS: tuple[str, ...] = (
    "cello", "congas", "pipa", "ukulele", "piano", "accordion", "clarinet", "guzheng", "saxophone",
    "drum", "violin", "bagpipe", "bassoon", "acoustic_guitar", "banjo", "electric_bass", "flute",
    "trumpet", "erhu", "xylophone", "tuba", "suona",
)
#: number words used as counting answers (0..10), then "more than ten"
AVQA_NUMBERS: tuple[str, ...] = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
)
#: the 9 (modality, type) pairs, in the order the official test() prints them
AVQA_QTYPES: tuple[tuple[str, str], ...] = (
    ("Audio", "Counting"), ("Audio", "Comparative"),
    ("Visual", "Counting"), ("Visual", "Location"),
    ("Audio-Visual", "Existential"), ("Audio-Visual", "Counting"), ("Audio-Visual", "Location"),
    ("Audio-Visual", "Comparative"), ("Audio-Visual", "Temporal"),
)

_AVQA_INDEX = {a: i for i, a in enumerate(AVQA_ANSWERS)}


def avqa_answer_index(answer: str) -> int:
    """Official label index of an answer string (KeyError for an answer outside the 42)."""
    return _AVQA_INDEX[answer]


def avqa_number(n: int) -> str:
    """The counting answer for ``n`` (``"more than ten"`` above 10)."""
    return AVQA_NUMBERS[n] if 0 <= n <= 10 else "more than ten"


def avss_palette(num_classes: int = len(AVSS_CLASSES)) -> list[tuple[int, int, int]]:
    """RGB colour of each AVSS class: the PASCAL-style bit palette of the official code.

    Bit ``i`` of the class index's 3-bit groups goes to bit ``7 - i`` of R, G, B.
    """
    palette = []
    for cls in range(num_classes):
        lab, rgb, i = cls, [0, 0, 0], 0
        while lab > 0:
            for ch in range(3):
                rgb[ch] |= ((lab >> ch) & 1) << (7 - i)
            i += 1
            lab >>= 3
        palette.append((rgb[0], rgb[1], rgb[2]))
    return palette


def classes_of(benchmark: str) -> tuple[str, ...]:
    """Label names of a benchmark (AVQA: the 42 answers; S4/MS3: binary masks have none)."""
    table = {
        "ave": AVE_CLASSES,
        "llp": LLP_CLASSES,
        "avs_s4": S4_CATEGORIES,
        "avss": AVSS_CLASSES,
        "avqa": AVQA_ANSWERS,
    }
    return table.get(benchmark, ())
