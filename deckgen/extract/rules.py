"""Sentence rules: each a named, checkable unit with its reason and examples (tested as a table).

A *skip* rule says a sentence is never card text. A *role* rule says what kind of fact a sentence holds,
which decides the span a card tests (CARDS.md). `--explain` names the rule behind every decision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    why: str
    pattern: re.Pattern[str]
    matches: tuple[str, ...] = ()  # examples the rule must match
    misses: tuple[str, ...] = ()  # examples it must not match

    def search(self, text: str) -> bool:
        return bool(self.pattern.search(text))


def _rule(code: str, name: str, why: str, pattern: str, matches: tuple[str, ...], misses: tuple[str, ...]) -> Rule:
    return Rule(code, name, why, re.compile(pattern, re.I), matches, misses)


SKIP_RULES: tuple[Rule, ...] = (
    _rule(
        "S10", "incidental",
        "Appendix experiments, figure captions and colour legends are details no student reviews.",
        r"附录|色彩编码|颜色表示|图例|上半部分图|下半部分图|左图|右图|等式\s*\d|公式\s*\d|"
        r"(?:在|见)\s*(?:Figure|Fig\.|Table|图|表)\s*\d+\s*中?(?:绘制|展示|列出|画出)",
        ("附录 H 中的实验显示提升了 20%。", "通过色彩编码展示了不同大小的模型。"),
        ("在 ImageNet 上提升了 2%。",),
    ),
    _rule(
        "S1", "rhetoric",
        "Hype and rhetoric test nothing the paper showed.",
        r"期待|总之|总而言之|综上|不得不说|可以说|毫无疑问|前所未有|令人(?:惊叹|兴奋|印象深刻)|不仅.{0,30}(?:更|还)|"
        r"就像|如同|仿佛|好比|堪称|革命性|颠覆|里程碑|重磅|炸裂|惊艳|划时代|非常优雅|一举|遥遥领先|杀手锏|神器|大杀器|"
        r"脱颖而出|新星|明星|火爆|爆火|出圈|风靡|有望|前景|不可或缺|这么(?:好|强|快)|挺|可观|惊人|厉害|牛",
        ("我们期待更加智能的系统。", "这一方法堪称里程碑。", "它不仅速度快，更是精度高。"),
        ("该方法把误差降低了 3%。",),
    ),
    _rule(
        "S2", "meta",
        "Sentences about the write-up itself (本文将, 接下来, 如下图) are not facts about the paper.",
        r"^(?:本文|这篇文章|这篇博客|本篇|下面|接下来|首先我们|我们(?:先|来|再|继续)|笔者|小编|今天|在这篇|本节|上一节|"
        r"下一节|如下图|见图|参见|详见|感兴趣的|欢迎|最后我们|到这里|至此|到目前为止)|(?:如下图|下图|上图)(?:所示|展示)|参考(?:文献|资料)|原文|"
        r"^[^，。]{0,12}(?:表|图)\s*\d+[^，。]{0,20}(?:显示|展示|列出|给出|比较|总结)了",
        ("本文将介绍一种新的注意力。", "接下来我们看实验部分。", "下图展示了整体结构。", "表 3 显示了各方法在测试集上的结果。"),
        ("本方法在三个数据集上验证。", "该模型由编码器和解码器组成。"),
    ),
    _rule(
        "S3", "background",
        "Sentences about the whole field set the scene; a student reviews the paper, not the news.",
        r"^(?:近年来|近些年|近几年|目前|当前|现如今|如今|最近|过去几年|长期以来|众所周知|一直以来|在.{0,12}领域[，,])|越来越|"
        r"^随着[^，,]{0,20}(?:发展|普及|兴起|崛起|进步|出现|爆发|火热)",
        ("近年来，大模型发展迅速。", "随着算力的发展，训练成本不断下降。", "模型越来越大，微调越来越贵。"),
        ("该方法在目标检测上达到 50.1 AP。", "随着迭代次数的增加，样本质量下降。"),
    ),
    _rule(
        "S4", "question",
        "A question or exclamation in the article is rhetoric; its answer, if any, is the next sentence.",
        r"[？?！!]$|[吗呢吧]。?$",
        ("那么问题来了，为什么会这样？", "效果非常好！"),
        ("模型的参数量为 7B。",),
    ),
    _rule(
        "S5", "reader",
        "Narration aimed at the reader or the author's own opinion is not a fact about the paper.",
        r"想象一下|试想|假设你|你(?:会|可以|需要|想|该|的|们)|让我们|各位|俗话说|大家|我(?:觉得|认为|个人|想)|笔者认为|个人认为|"
        r"感觉|我们(?:需要|可以看到|来看)",
        ("想象一下你有一个模型。", "我觉得这个设计很巧妙。", "大家可以自己试试。"),
        ("研究者认为权重更新是低秩的。",),
    ),
    _rule(
        "S6", "promotion",
        "Ads, follow/group lines and calls to action are page furniture.",
        r"关注|订阅|点赞|转发|扫码|二维码|报名|招聘|加入我们|课程|优惠|免费领取|公众号|交流群|微信群|QQ群|星球|投稿|"
        r"联系我们|合作|赞助|直播|福利|抽奖|阅读原文",
        ("欢迎关注我们的公众号。", "扫码加入交流群。"),
        ("模型在 ImageNet 上训练。",),
    ),
    _rule(
        "S7", "how-to",
        "Installation and usage steps are tutorial trivia, not what the paper found.",
        r"pip install|conda |git clone|python\s+\S+\.py|\.py(?![A-Za-z])|--[a-z][\w-]+|"
        r"运行(?:以下|下面|如下)|执行(?:以下|下面|如下)|"
        r"安装|下载|命令行?|终端|脚本|代码如下|如下代码|以下代码|调用.{0,10}(?:接口|函数|方法)|\bimport\b|"
        r"文件夹|目录下|配置文件|点击|打开|环境配置|搭建.{0,8}环境|开发环境|安装依赖|依赖(?:包|库)|文件格式|源码|代码实现|实现代码|GitHub|"
        r"超参数|加载|^这里[，,]",
        ("先用 pip install setfit 安装依赖。", "运行以下命令即可开始训练。", "打开配置文件修改路径。"),
        ("该方法只需要修改注意力的计算方式。",),
    ),
    _rule(
        "S8", "example",
        "An example input (例如, 比如, 假设) illustrates; its digits and words are not facts to remember.",
        r"^(?:举个例子|举例来说|譬如|假设|假如|以.{1,12}为例|例如|比如)|^第[一二三四五六七八九十\d]+个(?:问题|例子|示例|样例)",
        ("例如，输入一张 224×224 的图片。", "假设批大小为 32。"),
        ("实验表明准确率提升了 2%。", "在例如翻译的任务上提升了 2%。"),
    ),
    _rule(
        "S9", "code",
        "Code pasted into the text is never a card.",
        r"\bdef\s+\w+\(|\bclass\s+\w+[(:]|\breturn\b|self\.|torch\.|np\.|nn\.|\w+\s*=\s*\w+\(|[{};]\s*$|^\s*#|==|\+=",
        ("x = model(inputs)", "def forward(self, x):"),
        ("模型的输出维度为 768。",),
    ),
)

# Roles of a sentence that holds a fact; a sentence may have several.
ROLE_RULES: tuple[Rule, ...] = (
    _rule(
        "R1", "definition",
        "A definition names what a thing is: test the defined thing or its definition.",
        r"是一种|是一个|是一类|是一项|是指|指的是|定义为|被称为|称之为|的核心思想是|的核心是|的基本思想是|的主要思想是|"
        r"的关键在于|的本质是|的思路是|的思想是",
        ("LoRA 是一种参数高效的微调方法。", "ViT 的核心思想是把图片切成小块。"),
        ("模型在测试集上达到 80%。",),
    ),
    _rule(
        "R2", "result",
        "A result sentence: hide the number after the result word, the method's own figure first.",
        r"(?:达到|达|提升|提高|降低|减少|缩短|加快|快了|慢了|超过|超越|优于|领先|取得|获得|实现了?|增加|下降|上升|节省|压缩|减小)"
        r"[^。]{0,20}\d|\d[^。]{0,6}(?:%|％|倍|个百分点)|(?:准确率|精度|召回率|F1|BLEU|ROUGE|FID|mAP|AP|Top-?1|困惑度|PPL|EM|"
        r"吞吐量?|延迟|速度)[^。]{0,12}\d",
        ("在 COCO 上达到 52.3 AP。", "推理速度快了 3 倍。", "准确率为 91.2%。"),
        ("该模型由 12 层编码器组成。",),
    ),
    _rule(
        "R3", "comparison",
        "A comparison: test the outcome (better, on par, worse) against the named baseline.",
        r"(?:与|和|跟|较|比)[^。，]{1,30}(?:相比|相较|相当|持平|更好|更差|更高|更低|更快|更慢|不如)|优于|胜过|超过了?|超越|不如",
        ("与 Adapter 相比，LoRA 不增加推理延迟。", "该方法优于所有基线。"),
        ("模型使用了 Adam 优化器。",),
    ),
    _rule(
        "R4", "mechanism",
        "How the method works: test the means (通过 …, 把 … 变成 …), not the method's name.",
        r"通过|采用|利用|引入|借助|使用|基于|将|把|由.{1,30}(?:组成|构成)|包括|包含|分为|替换为|映射|分解|冻结|注入|合并|"
        r"拼接|共享|蒸馏|掩码|加权|归一化|输入|输出",
        ("LoRA 通过冻结预训练权重来减少显存。", "编码器由 6 个相同的层组成。"),
        ("近年来大模型越来越大。",),
    ),
    _rule(
        "R5", "limitation",
        "A limitation or the problem a method solves: worth a card when it names the cause.",
        r"局限|不足|缺点|缺陷|问题在于|瓶颈|无法|难以|代价|开销|限制",
        ("自注意力的瓶颈在于平方复杂度。",),
        ("模型在三个数据集上验证。",),
    ),
    _rule(
        "R6", "finding",
        "A finding the authors report: test what was found.",
        r"发现|表明|证明|证实|显示|揭示|说明|观察到",
        ("研究者发现低秩更新会放大已有特征。",),
        ("模型在三个数据集上验证。",),
    ),
)


def skip_rule(text: str) -> Rule | None:
    """The first skip rule a sentence breaks, if any."""
    return next((r for r in SKIP_RULES if r.search(text)), None)


def roles(text: str) -> list[str]:
    return [r.name for r in ROLE_RULES if r.search(text)]
