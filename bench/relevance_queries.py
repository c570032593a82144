"""Labelled queries for ``bench/relevance.py``, over real text: the original project's EILEV captions and face
tags of the first 550 s of one video (``legacy/combined_metadata_dev.json``, imported as video ``dev``) and the
Popeye cartoon's English subtitles (``subtitled/popeye``, indexed with its ``.eng.srt``).

A query's relevant segments are those whose text matches ``pattern`` (a regular expression, case-insensitive,
over caption + transcript) and that show every member in ``members``; ``pattern=None`` means any text. These
rules were written by reading every caption of the file; they are the labels. ``kind`` groups the report:

- paraphrase: the words differ from the captions' (meaning has to find them);
- exact: a rare word or name that the captions use as is;
- transcript: a line (or part of one) of the subtitles;
- member+topic, member: a member's name (any language, with particles) and what they do, or only the name;
- ko-topic, ko-member: Korean queries; ``en`` is how a translator says them in English (the fake translator of the
  benchmark answers with it, and the same English query is measured for comparison);
- nomatch: nothing in the library is relevant.
"""
from __future__ import annotations

from dataclasses import dataclass

MEMBER_ALIASES = {
    "Danielle": ["다니엘", "Dani"],
    "Gang Harin": ["Haerin", "Kang Haerin", "해린", "강해린"],
    "Kim Minji": ["Minji", "민지", "김민지"],
    "Pham Hanni": ["Hanni", "하니", "팜하니"],
}


@dataclass(frozen=True)
class Query:
    q: str
    kind: str
    pattern: str | None
    members: tuple[str, ...] = ()
    en: str | None = None          # Korean queries: the English a translator gives for the text after the names


Q = Query
QUERIES: list[Query] = [
    # ------------------------------------------------------------ paraphrases
    Q("throwing a flying disc", "paraphrase", r"frisbee"),
    Q("eating donuts", "paraphrase", r"dough"),
    Q("people hitting a ball with rackets", "paraphrase", r"tennis|badminton|racket"),
    Q("lunch on the grass in the park", "paraphrase", r"picnic"),
    Q("people gathered around a fire", "paraphrase", r"campfire|bonfire|fire pit|fire is burning"),
    Q("people crossing a river on a footbridge", "paraphrase", r"bridge"),
    Q("taking photographs of each other", "paraphrase", r"taking (pictures|a picture|a selfie)|posing for a picture"),
    Q("someone asleep", "paraphrase", r"sleeping"),
    Q("gazing through a window", "paraphrase", r"window"),
    Q("playing with a puppy", "paraphrase", r"\bdog\b"),
    Q("a person catching fish", "paraphrase", r"fishing"),
    Q("water running through the woods", "paraphrase", r"stream of water"),
    Q("building with toy bricks", "paraphrase", r"lego|building blocks|build the tower|stacking"),
    Q("folding a sheet of paper", "paraphrase", r"folding"),
    Q("a woman holding a chicken egg", "paraphrase", r"\beggs?\b"),
    Q("a woman reading a novel", "paraphrase", r"reading a book"),
    Q("looking at a smartphone", "paraphrase", r"phone"),
    Q("chasing each other in a game", "paraphrase", r"game of tag|hide and seek"),
    Q("a camp fire burning", "paraphrase", r"campfire|bonfire|fire pit|fire is burning"),
    Q("a couple having a picnic", "paraphrase", r"picnic"),
    # ------------------------------------------------------------ exact and rare words
    Q("dominoes", "exact", r"dominoes"),
    Q("tic-tac-toe", "exact", r"tic-tac-toe"),
    Q("hopscotch", "exact", r"hopscotch"),
    Q("ping pong", "exact", r"ping pong"),
    Q("waffle", "exact", r"waffle"),
    Q("hammock", "exact", r"hammock"),
    Q("badminton", "exact", r"badminton"),
    Q("kite", "exact", r"\bkite\b"),
    Q("umbrella", "exact", r"umbrella"),
    Q("autumn camp", "exact", r"autumn"),
    Q("Jeans Zine", "exact", r"jeans zine"),
    Q("stuffed toys", "exact", r"stuffed toys"),
    Q("potato", "exact", r"potato"),
    Q("green apple", "exact", r"green apple"),
    # ------------------------------------------------------------ transcript quotes (Popeye)
    Q("I'm Sinbad the sailor", "transcript", r"sinbad"),
    Q("I live on an island on the back of a whale", "transcript", r"whale"),
    Q("that's not a bad joke", "transcript", r"bad joke"),
    Q("talk about women they all fall for me", "transcript", r"fall for me"),
    Q("I don't wanna brag folks", "transcript", r"brag"),
    Q("the most remarkable extraordinary fellow", "transcript", r"remarkable"),
    Q("barking and roaring", "transcript", r"barking"),
    Q("so hearty and hale", "transcript", r"hearty"),
    Q("handsom bloke", "transcript", r"bloke"),
    Q("I scare all creation", "transcript", r"scare all creation"),
    Q("wherever they're found", "transcript", r"wherever"),
    Q("extra special kind of fellow", "transcript", r"extra special"),
    # ------------------------------------------------------------ member + topic, member only
    Q("Danielle playing dominoes", "member+topic", r"dominoes", ("Danielle",)),
    Q("Hanni eating a doughnut", "member+topic", r"dough", ("Pham Hanni",)),
    Q("Minji sleeping", "member+topic", r"sleeping", ("Kim Minji",)),
    Q("Haerin folding paper", "member+topic", r"folding", ("Gang Harin",)),
    Q("Danielle with a tennis racket", "member+topic", r"tennis|badminton|racket", ("Danielle",)),
    Q("Minji reading a book", "member+topic", r"reading a book", ("Kim Minji",)),
    Q("Danielle", "member", None, ("Danielle",)),
    Q("Hanni", "member", None, ("Pham Hanni",)),
    Q("Kim Minji and Danielle", "member", None, ("Kim Minji", "Danielle")),
    # ------------------------------------------------------------ Korean
    Q("프리스비 던지는 장면", "ko-topic", r"frisbee", en="a scene of throwing a frisbee"),
    Q("도넛 먹는 장면", "ko-topic", r"dough", en="a scene of eating a doughnut"),
    Q("테니스 치는 사람들", "ko-topic", r"tennis|badminton|racket", en="people playing tennis"),
    Q("공원에서 소풍", "ko-topic", r"picnic", en="a picnic in the park"),
    Q("모닥불 주위에 앉은 사람들", "ko-topic", r"campfire|bonfire|fire pit|fire is burning",
      en="people sitting around a campfire"),
    Q("다리를 건너는 사람들", "ko-topic", r"bridge", en="people crossing a bridge"),
    Q("자는 사람", "ko-topic", r"sleeping", en="a person sleeping"),
    Q("창밖을 보는 남자", "ko-topic", r"window", en="a man looking out of the window"),
    Q("강아지와 노는 사람들", "ko-topic", r"\bdog\b", en="people playing with a puppy"),
    Q("낚시하는 남자", "ko-topic", r"fishing", en="a man fishing"),
    Q("도미노 게임", "ko-topic", r"dominoes", en="a game of dominoes"),
    Q("종이 접기", "ko-topic", r"folding", en="folding paper"),
    Q("책 읽는 여자", "ko-topic", r"reading a book", en="a woman reading a book"),
    Q("다니엘이 도미노 하는 장면", "ko-member", r"dominoes", ("Danielle",), en="a scene of playing dominoes"),
    Q("하니가 도넛 먹는 장면", "ko-member", r"dough", ("Pham Hanni",), en="a scene of eating a doughnut"),
    Q("민지가 자는 모습", "ko-member", r"sleeping", ("Kim Minji",), en="sleeping"),
    Q("해린이", "ko-member", None, ("Gang Harin",)),
    # ------------------------------------------------------------ nothing relevant
    Q("🤠🤠", "nomatch", "$^"),
    Q("asdfghjkl qwerty", "nomatch", "$^"),
    Q("quantum chromodynamics lecture", "nomatch", "$^"),
    Q("a submarine deep in the ocean", "nomatch", "$^"),
    Q("snowboarding down a mountain", "nomatch", "$^"),
    Q("스키 점프 선수", "nomatch", "$^", en="a ski jumper"),
    Q("fireworks over a city skyline", "nomatch", "$^"),
]
