"""Writes listing-2025-04-21.atom.xml, the synthetic arXiv listing the tests use in place of the
recorded one (python tests/data/write_listing.py). Every paper here is invented; only the
document's shape is arXiv's (namespaces, the summary's "arXiv:<id> Announce Type:" head,
arxiv:announce_type, dc:creator with every author in one string, dc:rights, the optional
journal reference and DOI). Edit the entries here, not the XML, so escaping stays right; the
properties the tests rely on are listed in README.md.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

FEED = "cs.AI+cs.CL+cs.CV+cs.LG+cs.MA+cs.RO"
BUILT = "2025-04-21T04:00:00+00:00"      # <updated>: the build time, Eastern midnight in UTC
ANNOUNCED = "2025-04-21T00:00:00-04:00"  # <published>: the announcement day
CC_BY = "http://creativecommons.org/licenses/by/4.0/"
ARXIV = "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"

FORTY_AUTHORS = ", ".join(f"{first} {last}" for first, last in zip(
    ["Ada", "Bram", "Chiara", "Dmitri", "Elif", "Farah", "Gunnar", "Hana", "Ilse", "Jonas",
     "Kaito", "Lena", "Mateo", "Nia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tamsin",
     "Ugo", "Vera", "Wen", "Xavier", "Yusuf", "Zofia", "Anouk", "Bastien", "Camila", "Dario",
     "Emeka", "Freya", "Goran", "Hiroshi", "Ines", "Jarek", "Katla", "Luca", "Marit", "Nour"],
    ["Abbott", "Brandt", "Costa", "Dvořák", "Ekström", "Fontaine", "Gallo", "Haddad", "Iversen",
     "Jansen", "Kovač", "Lindqvist", "Moreau", "Nakamura", "Olsen", "Pereira", "Quist", "Rossi",
     "Schäfer", "Thorsen", "Ueda", "Varga", "Wójcik", "Xu", "Yılmaz", "Zanetti", "Aalto",
     "Bergström", "Castaño", "Duarte", "Eze", "Fischer", "Grünewald", "Hoshino", "Ibáñez",
     "Jovanović", "Kristjánsdóttir", "Lombardi", "Mäkelä", "Nasser"]))

ENTRIES = [
    dict(id="2504.90001v1", type="new", categories=["cs.CV", "cs.AI"], rights=CC_BY,
         title="Lantern-VL: A Vision Language Model That Reads Charts Aloud",
         authors="Mira Okafor, Tomás Lindqvist, Yuki Sato, Peter Quill",
         abstract="We present Lantern-VL, an MLLM that reads bar charts, line plots and pie charts aloud "
         "for blind and low-vision users. Unlike earlier VLMs, Lantern-VL grounds every spoken number "
         "in a pixel region, so a listener can ask where a value came from and hear the answer in "
         "the same voice. We collect 4,200 charts from government reports, news articles and "
         "scientific papers, each paired with questions written by screen-reader users, and we "
         "describe how we checked that answers can be verified from the chart alone. On this "
         "benchmark Lantern-VL halves the numeric error of comparable vision-language models, "
         "refuses to guess when an axis is unlabelled, and runs on a laptop without a graphics "
         "card. A study with twelve participants shows that grounded answers are trusted more "
         "often and checked less often, which we discuss as both a strength and a risk."),
    dict(id="2504.90002v1", type="new", categories=["cs.CV"], rights=ARXIV,
         title="Counting Ducks: Robustness of VLMs to Occlusion & Clutter",
         authors="Hannah Brook, Felix Moreau",
         abstract="How many ducks are in the pond? We ask ten VLMs to count objects while we add "
         "occluders & background clutter step by step, from a clean photograph to a scene in "
         "which most of each object is hidden behind reeds, boats or other ducks. Counting "
         "accuracy falls much faster than captioning quality: a model can still describe the "
         "scene well while its count is off by a factor of two. Models that answer with high "
         "stated confidence are wrong most often when more than 60% of an object is hidden, and "
         "asking them to count step by step helps only when the objects do not touch. We release "
         "the 3,000 images and the script that adds clutter so that others can extend the test "
         "to new object classes."),
    dict(id="2504.90003v1", type="new", categories=["cs.CL", "cs.AI"], rights=CC_BY,
         title="Tok-Tok: Multilingual LLM Tokenizers Revisited",
         authors="Zoë Ångström, José Núñez, Çağla Öztürk, Nguyễn Thị Hương, Søren Kierkegård",
         abstract="Multilingual large language models (mLLMs) split words of low-resource languages "
         "into many more tokens than English words. We measure this tokenizer tax in 61 languages, "
         "show that it predicts downstream accuracy better than the size of the pre-training data, "
         "and propose a vocabulary transplant that narrows the gap for Yorùbá, Māori and "
         "Kalaallisut without retraining the model from scratch."),
    dict(id="2504.90004v1", type="new", categories=["cs.LG", "stat.ML"], rights=CC_BY,
         title=r"Sparse Transformer Layers with $\mathcal{O}(n \log n)$ Attention",
         authors="Rafael Ibáñez-García, Li Wei, Anna Kowalská",
         abstract=r"We replace dense attention in each transformer layer by a learned butterfly "
         r"pattern of cost $\mathcal{O}(n \log n)$, where $n$ is the sequence length. When "
         r"$n < 4096$ the dense layer remains faster, but for $n > 2^{14}$ our layer is "
         r"$3.1\times$ quicker at equal perplexity. We release kernels written for `triton` and a "
         r"*reference* implementation in plain PyTorch; the loss satisfies "
         r"$\mathcal{L}_{\text{sparse}} \le (1+\epsilon)\,\mathcal{L}_{\text{dense}}$."),
    dict(id="2504.90005v1", type="new", categories=["cs.RO", "cs.CV"], rights=ARXIV,
         title="Grasp Anything Twice: Task-Oriented Grasping with a Multimodal Language Model",
         authors="Kwame Mensah, Elena Petrova, Jun-ho Park, Marta Silva",
         abstract="A robot that hands over scissors should grasp them by the blades, and a robot "
         "that cuts paper should not. We prompt an MLLM with a rendered image of each candidate "
         "grasp, produced by an off-the-shelf grasp planner, and ask which one suits the task in "
         "hand, then execute the chosen grasp on a real arm. We compare five ways of showing the "
         "candidates (overlaid markers, cropped close-ups, numbered arrows, a grid and a short "
         "video) and find that numbered arrows work best. Across 38 household objects and 120 "
         "tasks, the task-oriented grasp success rate rises from 54% to 81% compared to a "
         "stability-only grasp planner, while the overall grasp success rate stays the same. "
         "Failures come mostly from transparent and very thin objects."),
    dict(id="2504.90006v1", type="new", categories=["cs.CV", "cs.LG"], rights=CC_BY,
         title="World Models for Driving: A Diffusion Benchmark",
         authors="Oliver Grant, Sakura Ito",
         abstract="Video diffusion models are increasingly used as world models for autonomous "
         "driving. We propose a benchmark of 1,500 scenes that checks whether a generated future "
         "obeys traffic rules, keeps objects permanent and respects physics. None of the seven "
         "world models we test passes all three checks on more than half of the scenes."),
    dict(id="2504.90007v1", type="new", categories=["cs.AI", "cs.MA"], rights=CC_BY,
         title="Many Hands: A Multi-Agent VLM Benchmark Written by Forty Authors",
         authors=FORTY_AUTHORS,
         abstract="Forty authors each wrote ten visual puzzles that need two agents to cooperate: "
         "one agent sees the image, the other reads the instructions, and only together can they "
         "answer. The puzzles range from finding a route on a hand-drawn map to assembling "
         "furniture from a picture of the parts. We evaluate pairs of VLM agents on the 400 "
         "puzzles and find that agents talk too much: pairs that exchange shorter messages solve "
         "more puzzles, and a simple rule that limits each message to one sentence raises the "
         "solve rate from 31% to 44%. Human pairs solve 92% of the puzzles with a median of "
         "three messages. We release the puzzles, the transcripts and a leaderboard."),
    dict(id="2504.90008v1", type="new", categories=["cs.CV"], rights=ARXIV,
         title="*Bold* Claims and _Emphasis_: [Markdown] # in <Titles> of Vision-Language "
         "Papers | A Survey",
         authors="Grace O'Neil, Bob `Backtick` Tables",
         abstract="Titles of vision-language papers contain more and more punctuation: *stars*, "
         "_underscores_, ~tildes~, `code`, [brackets](and parentheses), # hashes, | pipes, > quotes "
         "and even <b>tags</b>. We count them in 12,000 titles & find that 7% would break a naive "
         "Markdown renderer, that titles naming a vision language model are twice as likely to "
         "contain a colon, and that <script> never appears."),
    dict(id="2504.90009v1", type="new", categories=["cs.CV", "eess.IV"], rights=CC_BY,
         title="Tiny Convolutional Nets for Crop Disease Detection in the Field",
         authors="Amara Diallo, Lukas Huber, Priya Raman",
         abstract="A 90k-parameter convolutional network detects eleven crop diseases from phone "
         "photos with 93% accuracy and runs offline on a ten-year-old phone. We describe the data "
         "we collected with farmers in three countries and what went wrong along the way."),
    dict(id="2504.90010v1", type="cross", categories=["cs.MM", "cs.CV", "cs.SD"], rights=CC_BY,
         title="Sound and Vision: Audio-Visual Captioning with One Model",
         authors="Daniel Rossi, Aiko Tanaka, Moritz Weber",
         abstract="We extend an MLLM with an audio encoder so that one model captions what is seen "
         "and what is heard in a video. The audio encoder is trained on 40,000 hours of sound "
         "effects and speech and connected to the language model through a small adapter, while "
         "the rest of the model stays frozen. Captions mention off-screen sounds (a door, a dog, "
         "rain on a window) that image-only captioners miss, and they place each sound in time. "
         "Human raters prefer our captions in 68% of pairwise comparisons against a strong "
         "image-only baseline, and in 74% for videos in which the most important event is heard "
         "but not seen. We discuss failure cases such as music that is mistaken for speech."),
    dict(id="2504.90011v1", type="new", categories=["cs.LG"], rights=ARXIV,
         title="Warm-up Is All You Need? A Note on Learning-Rate Schedules",
         authors="Sofia Andersson",
         abstract="Learning-rate warm-up is standard when training a transformer, yet its role is "
         "debated. Across 300 runs we show that warm-up mostly compensates for a badly scaled "
         "initialisation: with the right scale, training without warm-up reaches the same loss."),
    dict(id="2504.90012v1", type="new", categories=["cs.RO"], rights=CC_BY,
         title="Legged Robot Stair Climbing from Ten Minutes of Data",
         authors="Chen Jing, Ola Nordmann, Fatima Zahra El Amrani",
         abstract="A quadruped robot learns to climb stairs from ten minutes of real-world data by "
         "fine-tuning a policy trained in simulation. The robot climbs 24 staircases it has never "
         "seen, including spiral and outdoor stairs, and falls on only one."),
    dict(id="2411.90013v2", type="replace", categories=["cs.CV"], rights=ARXIV,
         title="Chat-to-Image: Multi-turn Dialogue for Image Generation and Editing",
         authors="Nadia Karim, Owen Hughes, Wei Zhang, Laura Bianchi, Igor Sokolov, Mei Lin",
         abstract="Chat-to-Image lets people create and edit images over many turns of dialogue. A "
         "planner built on MLLMs decides at each turn whether to generate, edit or ask a question; "
         "earlier MLLMs forgot instructions after three turns, ours keeps them for ten. We release "
         "20,000 dialogues for training MLLMs on multi-turn image generation and compare five "
         "MLLMs, showing that the strongest MLLMs still lose track of objects."),
    dict(id="2409.90014v3", type="replace", categories=["cs.RO", "cs.AI"], rights=CC_BY,
         title="Robot Arms That Ask: Vision Language Model Feedback for Assembly",
         authors="Henrik Dahl, Isabel Fernández, Tariq Aziz",
         abstract="When an assembly step fails, our robot arm asks a vision language model what "
         "went wrong and tries again. The feedback loop raises the success rate of a 12-step "
         "furniture assembly from 35% to 72%. Version 3 adds experiments with a second robot and "
         "a grasp-retry policy.",
         journal_reference="IEEE Robotics and Automation Letters 10(4), 2025",
         doi="10.1109/LRA.2025.0000014"),
    dict(id="math/0703001v4", type="replace-cross", categories=["math.ST", "cs.LG", "stat.TH"],
         rights=ARXIV,
         title=r"On the Consistency of $k$-Nearest-Neighbour Rules in $\ell_p$ Spaces",
         authors="Pál Erdős-Kovács, Marie-Hélène Lefèvre",
         abstract=r"We show that the $k$-nearest-neighbour rule is universally consistent in "
         r"$\ell_p$ for every $1 \le p < \infty$ when $k \to \infty$ and $k/n \to 0$, and give a "
         r"counterexample for $p = \infty$. This version corrects Lemma 3 and adds a short proof "
         r"of Stone's theorem in the Banach-space setting (Cram\'er's inequality is no longer "
         r"needed)."),
    dict(id="2504.90016v1", type="new", categories=["cs.CV", "cs.CL"], rights=CC_BY,
         title="Pointing Is Not Seeing: Spatial Grounding Errors in Vision Language Models",
         authors="Ingrid Holm, Samuel Adeyemi, Keiko Mori",
         abstract="Asked to point at the cup left of the plate, vision language models often point "
         "at the right cup for the wrong reason. We build 2,400 image pairs that differ only in "
         "the position of one object and show that models which answer spatial questions "
         "correctly on the original image fail on the mirrored one in 38% of cases, which means "
         "they often rely on priors about where objects usually are. Fine-tuning on mirrored "
         "pairs removes half of these errors without hurting captioning or visual question "
         "answering. We analyse attention maps and find that correct answers coincide with "
         "attention on both objects named in the question, while wrong answers attend to only "
         "one of them. The image pairs and the evaluation code are public."),
    dict(id="2504.90017v1", type="new", categories=["cs.CL", "cs.CV"], rights=ARXIV,
         title="Cheap Captions, Costly Mistakes: Training Multimodal Models on Synthetic Alt Text",
         authors="Lucía Romero, Arjun Mehta, Tove Lund",
         abstract="Alt text written by a model is cheap, and many multimodal training sets now "
         "contain more synthetic captions than human ones. We train one multimodal language model on "
         "mixtures ranging from 0% to 100% synthetic captions and measure hallucination, "
         "counting, reading of text in images and description of people. Up to a mix of 60% "
         "synthetic captions nothing gets worse; beyond it the model starts to describe objects "
         "that are typical for a scene but absent from the image, and it repeats the phrasing "
         "habits of the captioner. A small filter that discards captions mentioning objects a "
         "detector cannot find keeps the benefits of scale and removes most of the damage. We "
         "release the captions, the filter and the trained checkpoints for comparison."),
    dict(id="2504.90018v1", type="new", categories=["cs.RO", "cs.AI"], rights=CC_BY,
         title="VLM-Nav: Following Spoken Directions in Unmapped Buildings",
         authors="Martin Kowalczyk, Amina Yusuf, Hugo Lefort, Sun-mi Cho",
         abstract="Directions such as \"take the second door after the stairs\" are easy for people "
         "and hard for robots without a map. VLM-Nav uses a VLM to turn each spoken instruction "
         "into a sequence of visual landmarks and a local planner to reach them one by one, "
         "asking a question back when a landmark cannot be found. In six office and university "
         "buildings that the robot had never visited, VLM-Nav reaches the goal in 71% of 180 "
         "trials, against 43% for a baseline that maps the building first. Most failures happen "
         "when two doors look the same, and a follow-up question resolves about half of them. "
         "We report timing on the robot's onboard computer and release the instruction set."),
    dict(id="2504.90019v1", type="cross", categories=["cs.HC", "cs.CV"], rights=CC_BY,
         title="Do People Trust a VLM That Says \"I Am Not Sure\"?",
         authors="Elena Marchetti, Joon Lee",
         abstract="We show 240 participants answers from a VLM to questions about photographs, "
         "half of them with an expression of uncertainty and half without, and measure when "
         "people accept, check or reject the answer. Hedged answers are checked twice as often, "
         "which catches most of the model's mistakes, but participants also start to distrust "
         "correct hedged answers and rate the model as less competent overall. Calibrated hedging, "
         "in which the model hedges only when it is likely to be wrong, gives the best accuracy "
         "of the final human decision. We discuss what this means for assistants for blind and "
         "low-vision users, who cannot check the photograph themselves."),
    dict(id="2504.90020v1", type="new", categories=["cs.CV", "cs.LG"], rights=ARXIV,
         title="Medical Multimodal Models Forget Anatomy When Fine-Tuned on Reports",
         authors="Rania Haddad, Thomas Becker, Mei Suzuki, Kofi Boateng, Ana Vasquez",
         abstract="Fine-tuning a general multimodal model on radiology reports improves report "
         "writing but, as we show, erodes the model's knowledge of basic anatomy: after "
         "fine-tuning, it names the wrong organ in 19% of simple localisation questions, against "
         "4% before. We trace the loss to reports that describe findings without saying where they "
         "are and propose mixing in 5% of anatomy questions during fine-tuning, which keeps the "
         "gains in report quality and brings the localisation error back to 5%. The effect holds "
         "for chest X-rays, CT and ultrasound, and for three model sizes. We publish the anatomy "
         "questions so that other medical models can be checked for the same forgetting."),
]


def entry_xml(entry: dict) -> list[str]:
    versionless = entry["id"].rsplit("v", 1)[0]
    lines = [
        "  <entry>",
        f"    <id>oai:arXiv.org:{entry['id']}</id>",
        f"    <title>{escape(entry['title'])}</title>",
        f"    <updated>{BUILT}</updated>",
        f'    <link href="https://arxiv.org/abs/{versionless}" rel="alternate" type="text/html" />',
        f"    <summary>arXiv:{entry['id']} Announce Type: {entry['type']} \n"
        f"Abstract: {escape(entry['abstract'])}</summary>",
        *(f'    <category term="{category}" />' for category in entry["categories"]),
        f"    <published>{ANNOUNCED}</published>",
        f"    <arxiv:announce_type>{entry['type']}</arxiv:announce_type>",
        f"    <dc:rights>{entry['rights']}</dc:rights>",
    ]
    if "journal_reference" in entry:
        lines.append(f"    <arxiv:journal_reference>{escape(entry['journal_reference'])}</arxiv:journal_reference>")
    if "doi" in entry:
        lines.append(f"    <arxiv:DOI>{entry['doi']}</arxiv:DOI>")
    lines += [f"    <dc:creator>{escape(entry['authors'])}</dc:creator>", "  </entry>"]
    return lines


def listing_xml() -> str:
    lines = [
        "<?xml version='1.0' encoding='utf-8'?>",
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">',
        "  <id>http://rss.arxiv.org/atom/</id>",
        f"  <title>{FEED} updates on arXiv.org</title>",
        f"  <updated>{BUILT}</updated>",
        f'  <link href="http://rss.arxiv.org/atom/{FEED}" rel="self" type="application/atom+xml" />',
        f"  <subtitle>{FEED} updates on the arXiv.org e-print archive.</subtitle>",
    ]
    for entry in ENTRIES:
        lines += entry_xml(entry)
    lines.append("</feed>")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    Path(__file__).with_name("listing-2025-04-21.atom.xml").write_text(listing_xml(), encoding="utf-8")
