"""Which paper an article is about: the deck's name."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from functools import lru_cache

from deckgen.ingest.noise import SENTENCE_END
from deckgen.model import Article, Paper
from deckgen.terms import is_generic_name, load_vocabulary, name_key

# A Latin-script name: ProbSparse, GPT-4o, Llama-2-13B, CodeLlama7/13B, "Safe RLHF", "Stable Diffusion".
LATIN_TOKEN = r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ0-9]*(?:[-_./+][A-Za-zÀ-ÿ0-9]+)*"
LATIN_NAME = re.compile(rf"(?<![A-Za-zÀ-ÿ0-9_-]){LATIN_TOKEN}(?: [A-Z][A-Za-zÀ-ÿ0-9]*(?:[-_./+][A-Za-zÀ-ÿ0-9]+)*)*")
MATH = re.compile(r"\\\(.*?\\\)|\\\[.*?\\\]", re.S)

# Names that are never a paper's: venues, metrics, datasets, organisations, tools. General knowledge, no article's.
_NOT_A_PAPER_TEXT = """
CVPR ICCV ECCV ICLR NeurIPS NIPS ICML AAAI IJCAI ACL EMNLP NAACL COLING KDD SIGIR WWW WACV BMVC TPAMI IJCV JMLR TMLR
arXiv OpenReview
AP mAP AP50 AP75 FID IS BLEU ROUGE METEOR CIDEr SPICE PSNR SSIM LPIPS IoU mIoU F1 AUC ROC MSE MAE RMSE
Top-1 Top-5 FLOPs FLOPS MACs TFLOPS QPS FPS Acc SOTA Baseline
ImageNet ImageNet-1K ImageNet-21K ImageNet-22K COCO MS-COCO CIFAR CIFAR-10 CIFAR-100 MNIST JFT JFT-300M VOC
LAION ADE20K Cityscapes GLUE SuperGLUE SQuAD MMLU GSM8K HumanEval WMT
Google Meta Microsoft OpenAI DeepMind Facebook Nvidia Intel Apple Amazon Baidu Alibaba Tencent
HuggingFace Hugging-Face GitHub
PyTorch TensorFlow JAX Keras CUDA Triton Python GPU CPU TPU NPU API
"""
NOT_A_PAPER = {name_key(n) for n in re.findall(r"\S+", _NOT_A_PAPER_TEXT)} | {"googlebrain", "googleresearch"}
_SITE_SUFFIX = re.compile(r"\s+[|｜\-–—_]\s+")


def _looks_like_name(name: str) -> bool:
    letters = re.sub(r"[^A-Za-zÀ-ÿ]", "", name)
    if len(letters) < 2 or (len(letters) < 3 and not letters.isupper()):
        return False  # "Lt-1", "x2": a variable in a formula
    if name_key(name) in NOT_A_PAPER or re.fullmatch(r"[A-Za-z]{1,3}\d*", name) and name.lower() == name:
        return False
    if is_generic_name(name) or len(name) <= 2:
        return False
    first = name.split(" ")[0]
    if " " in name and first.isalpha() and first.islower():
        return False  # "billion FLOPs", "using Transformers": an English phrase, not a method's name
    # a plain lower-case word ("start", "cp") is English prose, not a method name
    return not name.islower()


def page_title(title: str) -> str:
    """'Article title | Venue - Site - Blog' or '栏目 | Article title' -> 'Article title' (the longest part)."""
    head = max(_SITE_SUFFIX.split(title.strip()), key=len).strip()
    head = re.sub(r"^(?:【[^】]{0,20}】|\[[^\]]{0,20}\])\s*", "", head)  # a column tag: 【论文解读】
    return head if len(head) >= 4 else title.strip()


def shorten(text: str, limit: int = 40) -> str:
    """At most `limit` characters, cut at a word or clause boundary, never inside a Latin word."""
    text = re.sub(r"^【[^】]{0,20}】", "", text.strip())
    if len(text) <= limit:
        return text
    head = text[:limit]
    clause = max(head.rfind(c) for c in "，,：:；;（(—|")
    if clause >= limit // 3:
        return head[:clause].strip()
    if re.match(r"[A-Za-z0-9]", text[limit]) and re.search(r"[A-Za-z0-9]$", head):
        head = re.sub(r"[A-Za-z0-9][\w.-]*$", "", head)  # do not cut a Latin word in two
    return head.strip(" -—,，、")


def _name_like(name: str) -> bool:
    """CamelCase, capitals, digits or a hyphen inside: how a method is named (EasyQuant, GPT-4, Weak-to-Strong)."""
    return bool(re.search(r".[A-Z0-9]|-", name.split(" ")[0]))


def _without_owner(name: str) -> str:
    """'OpenAI Superalignment' -> 'Superalignment': an organisation is not part of the method's name."""
    words = name.split(" ")
    while len(words) > 1 and name_key(words[0]) in NOT_A_PAPER:
        words = words[1:]
    return " ".join(words)


def _acronym(title: str) -> str | None:
    """'Denoising Diffusion Probabilistic Models' -> 'DDPM'."""
    words = [w for w in re.findall(r"[A-Za-z][\w-]*", title) if w[0].isupper()]
    return "".join(w[0] for w in words) if len(words) >= 3 else None


@lru_cache(maxsize=1)
def _abbreviations() -> dict[str, str]:
    """Full name -> abbreviation of the general terms that have both ('visiontransformer' -> 'ViT')."""
    by_meaning: dict[str, list[str]] = {}
    for form, zh in load_vocabulary().pairs:
        by_meaning.setdefault(zh, []).append(form)
    short: dict[str, str] = {}
    for forms in by_meaning.values():
        abbreviations = [f for f in forms if " " not in f and len(f) <= 6]
        for form in forms:
            if " " in form and abbreviations:
                short[name_key(form)] = abbreviations[0]
    return short


def _names_before_colon(name: str) -> bool:
    """'ResNet: …', 'Swin Transformer: …': the name a title leads with is the paper's, general term or not."""
    return len(name) >= 3 and name_key(name) not in NOT_A_PAPER and name.count(" ") <= 2 and not name.islower()


def _title_lead(title: str) -> str | None:
    """'XNet：……' or 'XNet: ……' names its method first."""
    m = re.match(rf"\s*({LATIN_NAME.pattern})\s*[:：]", title)
    return m.group(1) if m and _names_before_colon(m.group(1)) else None


def identify_paper(article: Article) -> str:
    """The method/model the article is about, else its title shortened."""
    scores: Counter[str] = Counter()
    spelling: dict[str, Counter[str]] = {}
    prose = MATH.sub(" ", article.text)
    title = page_title(article.title) if article.title else None
    paper_title = article.paper_title.strip() if article.paper_title else None
    if paper_title:
        # an article that names its paper in 《…》 is about the name that leads that title ("FireAct: …")
        lead = LATIN_NAME.match(paper_title)
        name = lead.group() if lead else ""
        colon = paper_title[len(name) :].lstrip().startswith((":", "："))
        # "LoRA: Low-Rank Adaptation …": the paper's own name, even when it has become a general term since
        named = colon and _names_before_colon(name)
        if lead and (named or _name_like(name) and _looks_like_name(name)) and prose.count(name) >= 2:
            return name
        acronym = _acronym(paper_title)
        if acronym and prose.count(acronym) + (title or "").count(acronym) >= 2:
            return acronym
    if title and (lead := _title_lead(title)) and prose.count(lead) + prose.count(lead.lower()) >= 1:
        return lead
    for name in map(_without_owner, LATIN_NAME.findall(prose)):
        if _looks_like_name(name):
            scores[name_key(name)] += 1
            spelling.setdefault(name_key(name), Counter())[name] += 1
    for text, bonus in ((title, 4), (article.paper_title, 6)):
        if not text:
            continue
        lead = re.split(r"[:：]", text)[0] if text is article.paper_title else text
        descriptive = text is article.paper_title and lead == text  # 'Understanding the Behaviour of …': no name
        for name in map(_without_owner, LATIN_NAME.findall(lead)):
            if _looks_like_name(name) and not (descriptive and not _name_like(name)):
                scores[name_key(name)] += bonus
                spelling.setdefault(name_key(name), Counter())[name] += 1
    if scores:
        (key, best), *rest = scores.most_common(2)
        runner_up = rest[0][1] if rest else 0
        in_title = bool(title) and any(name_key(n) == key for n in LATIN_NAME.findall(title))
        in_paper = bool(paper_title) and key in name_key(paper_title)
        dominant = spelling[key].most_common(1)[0][0]
        if not (best >= 4 and (best >= 1.5 * runner_up or (in_title and best > runner_up))):
            dominant = None
        elif in_title or in_paper:
            return dominant
    else:
        dominant = None
    if title:
        # a method the title names and the text keeps using ("……之 XNet 解析", "A——Weak-to-Strong Generalization")
        named = [_without_owner(n) for n in LATIN_NAME.findall(title)]
        named = [n for n in named if _looks_like_name(n) and prose.lower().count(n.lower()) >= 2]
        if named:
            return max(named, key=lambda n: prose.lower().count(n.lower()))
    if dominant and not paper_title:
        return dominant
    # an article about a general method itself (DDPM, LoRA, ViT) names it in its title, or opens with it
    heading = title or (article.paragraphs[0] if article.paragraphs else "")
    general = [n for n in LATIN_NAME.findall(heading) if is_generic_name(n) and len(n) >= 3
               and name_key(n) not in NOT_A_PAPER]
    short = _abbreviations()
    counted = [(n, prose.count(n) + prose.count(short.get(name_key(n), "\0"))) for n in general]
    counted = sorted((c for c in counted if c[1] >= 3), key=lambda c: (-len(c[0]), -c[1]))
    if counted:
        name = counted[0][0]
        abbreviation = short.get(name_key(name))
        return abbreviation if abbreviation and prose.count(abbreviation) > prose.count(name) else name
    if paper_title and re.search(r"[A-Za-z]{3}", paper_title):
        return shorten(paper_title, 60)
    if title:
        return shorten(title)
    if paper_title:
        return shorten(paper_title, 60)
    first = article.paragraphs[0] if article.paragraphs else article.source
    return shorten(SENTENCE_END.split(first)[0])


def group_by_paper(articles: list[Article], identify: Callable[[Article], str] = identify_paper) -> list[Paper]:
    papers: dict[str, Paper] = {}
    for art in articles:
        name = identify(art)
        papers.setdefault(name_key(name), Paper(name=name, articles=[])).articles.append(art)
    return list(papers.values())
