"""Development questions for the matcher, written from the seed summary in our own words.

These are not held out: the matcher, its confidence threshold and the knowledge were tuned on them, and
changed together with them. A score on them says the tuning holds, not how well unseen questions are
answered; a set reported as held-out must be kept apart, frozen, and never used for tuning (as
benchmarks/questions/heldout-*.jsonl are).

Each answerable case names the topic it needs and, per group, alternatives one of which the answer
must contain. Unanswerable cases are hard negatives: near neighbours of real facts (other product
generations, other clouds, other vendors) and off-topic chat.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    question: str
    expect: tuple[tuple[str, ...], ...]
    topic: str
    language: str = "en"


def en(question: str, topic: str, *expect: str | tuple[str, ...]) -> Case:
    return Case(question, tuple((e,) if isinstance(e, str) else e for e in expect), topic)


def zh(question: str, topic: str, *expect: str | tuple[str, ...]) -> Case:
    return Case(question, tuple((e,) if isinstance(e, str) else e for e in expect), topic, "zh")


ANSWERABLE: list[Case] = [
    # Graviton: paraphrases, typos, abbreviations, markup.
    en("how many cpu cores in graviton five?", "graviton", "192"),
    en("gravtion5 cores", "graviton", "192"),
    en("Number of cores on the new Graviton chip", "graviton", "192"),
    en("<@U0ABC> how many cores does graviton5 have???", "graviton", "192"),
    en("<@!4242> graviton 5 core count :thinking:", "graviton", "192"),
    en("ＧＲＡＶＩＴＯＮ５ cores？", "graviton", "192"),
    en("How much bigger is Graviton5's L3 cache?", "graviton", "5"),
    en("per-core L3 on graviton5", "graviton", "2.6"),
    en("what did graviton4 do to L2 cache", "graviton", "2MB"),
    en("how much fan power does direct silicon cooling save", "graviton", "33%"),
    en("What did they take off the chip for direct-to-silicon cooling?", "graviton", ("lid", "cover")),
    en("Pinterest cost savings on Graviton", "graviton", "47%"),
    en("adobe emissions graviton 🌱", "graviton", "37%"),
    en("How much faster is M9g compared to M8g?", "graviton", "25%"),
    en("airbnb speedup on m9g", "graviton", "25%"),
    en("SAP OLTP improvement with the new instances", "graviton", "60%"),
    en("Is M9g GA or preview?", "graviton", "preview"),
    # Apple.
    en("who was the apple speaker", "apple", "Payam"),
    en("What did Apple rewrite its backend in?", "apple", "Swift"),
    en("how much cheaper is swift on graviton for apple", "apple", "30%"),
    en("apple swift graviton perf boost", "apple", "40%"),
    en("What privacy technique protects iOS spam filtering?", "apple", "homomorphic"),
    en("swift toolchain amazon linux", "apple", "Swift"),
    # Opening and overview.
    en("Who delivered the keynote?", "overview", "DeSantis"),
    en("who did peter desantis stand in for", "opening", "Werner"),
    en("Which textbook edition mentions Nitro?", "opening", ("seventh", "7th")),
    en("what is the virtualization tax nitro removes", "opening", "Nitro"),
    # Lambda.
    en("What year was lamda released?", "lambda", "2014"),
    en("how did aws lambda begin", "lambda", "2013"),
    en("what do lambda managed instances manage for me", "lambda", ("patch", "scal")),
    en("Do I have to rewrite functions for Lambda Managed Instances?", "lambda", ("without", "no change")),
    en("which workloads fit lambda managed instances", "lambda", "video"),
    en("Were the EC2 and Lambda orgs merged?", "lambda", "merged"),
    # Inference / Project Mantle.
    en("What are Bedrock's service tiers?", "inference", "flex"),
    en("what is project mantel", "inference", "Bedrock"),
    en("does every customer get a separate queue in bedrock", "inference", "queue"),
    en("Four stages of an inference request?", "inference", "prefill"),
    en("<https://aws.amazon.com/bedrock|Bedrock> confidential computing?", "inference", "confidential"),
    # Vector search.
    en("s3 vector GA?", "vector-search", ("generally available", "GA")),
    en("How fast are S3 Vectors queries on 2 billion vectors?", "vector-search", "100"),
    en("What data types does Nova multimodal embeddings handle?", "vector-search", "video"),
    en("how many dimensions can a real vector space have", "vector-search", "3000"),
    en("opensearch hybrid search", "vector-search", ("keyword", "semantic")),
    # TwelveLabs.
    en("twelve labs ceo?", "twelvelabs", "Jae Lee"),
    en("What are Marengo and Pegasus?", "twelvelabs", "Marengo"),
    en("where does twelvelabs keep its videos", "twelvelabs", "S3"),
    en("How many years is a million hours of video?", "twelvelabs", "114"),
    # Trainium.
    en("trn3 ultraserver fp8 petaflops", "trainium", "360"),
    en("trainum3 memory bandwidth", "trainium", "700"),
    en("How many Trainium3 chips in an UltraServer?", "trainium", "144"),
    en("What is NKI?", "trainium", ("Neuron Kernel Interface", "NKI")),
    en("Will PyTorch run natively on Trainium?", "trainium", ("neuron", "PyTorch")),
    # Decart.
    en("decart frame rate vs gpus", "decart", "4"),
    en("what are the parts of decart's megakernel", "decart", ("LLM", "encoder")),
    en("Who is the CEO of Decart?", "decart", "Dean"),
    # Chinese.
    zh("Graviton5一共有几个核心？", "graviton", "192"),
    zh("Graviton 5 核心数量是多少", "graviton", "192"),
    zh("Graviton5 每个核心的三级缓存多了多少？", "graviton", "2.6"),
    zh("直接硅冷却能省多少风扇功耗？", "graviton", "33%"),
    zh("Pinterest用Graviton降了多少成本", "graviton", "47%"),
    zh("M9g相比M8g性能提高多少？", "graviton", "25%"),
    zh("苹果的服务端代码从什么语言迁移过来的？", "apple", "Java"),
    zh("Swift on Graviton让苹果成本降了多少", "apple", "30%"),
    zh("Lambda是哪年推出的？", "lambda", "2014"),
    zh("Lambda托管实例由谁负责打补丁？", "lambda", "Lambda"),
    zh("Bedrock有哪几个服务层级？", "inference", "灵活"),
    zh("推理请求有哪几个阶段", "inference", "预填充"),
    zh("S3 Vectors正式可用了吗？", "vector-search", "正式可用"),
    zh("TwelveLabs的CEO是谁？", "twelvelabs", "Jae Lee"),
    zh("Trainium3 UltraServer有多少个芯片？", "trainium", "144"),
    zh("Decart的帧率提升了几倍？", "decart", "4"),
    zh("谁主讲了这场主题演讲？", "overview", "DeSantis"),
    en("How Many Cores Does Graviton5 Have?", "graviton", "192"),
    en("How much did Pinterest cut costs with Graviton?", "graviton", "47%"),
    en("How big was Graviton4's L2 cache in MB?", "graviton", "2MB"),
    en("how much HBM in TB does a trn3 ultraserver have", "trainium", "20TB"),
    en("what's the deal with M9g price performance?", "graviton", "price-performance"),
    zh("Graviton4的L2缓存有多少MB", "graviton", "2MB"),
    zh("Neuron Explorer能做什么", "trainium", "瓶颈"),
    en("What Is The Memory Bandwidth Of Trainium3?", "trainium", "700"),
]

UNANSWERABLE: list[str] = [
    "How many cores does Graviton6 have?",
    "graviton 6 core count",
    "How much memory bandwidth does Trainium4 have?",
    "trainium 4 release date",
    "Can I run Lambda on Azure?",
    "Does AWS Lambda run on Azure?",
    "1",
    "2025",
    "How much does an M9g instance cost per hour?",
    "How much does Lambda Managed Instances cost?",
    "How many MB of L3 cache does a Graviton5 have?",
    "trainium3 power draw in watts",
    "Are there new EKS features?",
    "有没有发布EKS相关的新功能",
    "S3 Vectors的存储价格是多少？",
    "How does Graviton compare to Intel?",
    "Is Trainium better than Nvidia?",
    "How much does S3 Glacier cost?",
    "How fast are M10g instances?",
    "How many cores does an Intel Xeon have?",
    "How many cores does Graviton4 have?",
    "How many cores does Trainium3 have?",
    "What is the price of Trainium3?",
    "How much does Lambda cost?",
    "How much L2 cache does Graviton5 have?",
    "Where is re:Invent 2030 held?",
    "What's the weather like in Las Vegas?",
    "write me a poem about clouds",
    "tell me a joke",
    "What's Amazon's stock price today?",
    "What will AWS announce next year?",
    "Who won the World Cup?",
    "how do I cook rice",
    "Graviton6有多少个核心？",
    "今天天气怎么样？",
    "给我讲个笑话",
    "亚马逊股价是多少？",
    "Trainium4的内存带宽是多少？",
    "",
    "   ",
    "???",
    ":thumbsup: :tada:",
]
