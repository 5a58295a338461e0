"""The question test set: English and Chinese questions about the example enterprise.

Each expectation is written independently of the parser: a query in the twin's
query language (run directly), a count, the entity that should rank first, or
"unanswered" (the reply must say so and suggest close questions).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Ids:
    """The answer lists exactly the entities this query (plus an optional filter) selects."""

    query: str
    where: tuple[str, str, float] | None = None  # (property, "<" or ">", SI value)


@dataclass(frozen=True)
class Count:
    query: str


@dataclass(frozen=True)
class Top:
    """The first entity is the one with the highest (or lowest) value of the property."""

    kind: str
    prop: str
    highest: bool = True


@dataclass(frozen=True)
class Unanswered:
    pass


Expect = Ids | Count | Top | Unanswered

EU_BOX = "35,-25,72,45"
ASIA_BOX = "-11,60,56,150"
SA_BOX = "-56,-82,13,-34"
NA_BOX = "14,-170,72,-50"
AF_BOX = "-35,-18,37,52"
STU = "86.1000.huaxin/stuttgart"
SUZ = "86.1000.huaxin/suzhou"
SHA = "86.1000.huaxin/shanghai"
MTY = "86.1000.huaxin/monterrey"
CPS = "86.1000.huaxin/campinas"
EKU = "86.1000.huaxin/ekurhuleni"
MAINT = "machine where rul_low <= 30"

ENGLISH: list[tuple[str, Expect]] = [
    ("Which machines in the Stuttgart plant need maintenance this week?", Ids(f"{MAINT} in {STU}")),
    ("Which machines need maintenance?", Ids(MAINT)),
    ("Which machines in Suzhou are due for maintenance?", Ids(f"{MAINT} in {SUZ}")),
    ("Which machines in Europe need servicing?", Ids(f"{MAINT} in (site bbox {EU_BOX})")),
    ("How many machines need maintenance?", Count(MAINT)),
    (
        "Which lines in Europe are below 80% OEE?",
        Ids(f"line in (site bbox {EU_BOX})", ("oee", "<", 0.8)),
    ),
    ("Which production lines have an OEE below 70%?", Ids("line", ("oee", "<", 0.7))),
    (
        "Which lines in China have OEE above 75%?",
        Ids("line in (site where country = CN)", ("oee", ">", 0.75)),
    ),
    ("Which line has the lowest OEE?", Top("line", "oee", highest=False)),
    ("Which line has the highest OEE?", Top("line", "oee")),
    ("Which lines in Brazil are under 65% OEE?", Ids(f"line in {CPS}", ("oee", "<", 0.65))),
    ("Which supplier has the highest carbon footprint?", Top("supplier", "@footprint")),
    (
        "Which supplier has the lowest carbon footprint?",
        Top("supplier", "@footprint", highest=False),
    ),
    ("Which material has the highest carbon footprint?", Top("material", "co2e")),
    ("Which material has the lowest CO2e?", Top("material", "co2e", highest=False)),
    ("Which site has the highest grid factor?", Top("site", "grid_factor")),
    ("Which plant has the lowest grid intensity?", Top("site", "grid_factor", highest=False)),
    ("Which lane has the highest emissions?", Top("lane", "emission_factor")),
    ("Which suppliers are in Japan?", Ids("supplier where country = JP")),
    ("Which suppliers are in China?", Ids("supplier where country = CN")),
    ("List the suppliers in Brazil", Ids("supplier where country = BR")),
    ("How many suppliers are in India?", Count("supplier where country = IN")),
    ("How many suppliers do we have?", Count("supplier")),
    ("Which suppliers are in Asia?", Ids(f"supplier bbox {ASIA_BOX}")),
    ("Which suppliers are in South America?", Ids(f"supplier bbox {SA_BOX}")),
    ("Which suppliers are in North America?", Ids(f"supplier bbox {NA_BOX}")),
    ("Which suppliers are in Africa?", Ids(f"supplier bbox {AF_BOX}")),
    ("How many customers are in Europe?", Count(f"customer bbox {EU_BOX}")),
    ("Which customers are in the United States?", Ids("customer where country = US")),
    ("Which warehouses are in Europe?", Ids(f"warehouse bbox {EU_BOX}")),
    ("How many warehouses do we have?", Count("warehouse")),
    ("Which plants are in Asia?", Ids(f"site bbox {ASIA_BOX}")),
    ("Which factories are in Germany?", Ids("site where country = DE")),
    ("How many sites are there?", Count("site")),
    ("How many machines are in Germany?", Count("machine in (site where country = DE)")),
    ("How many machines are in the Stuttgart plant?", Count(f"machine in {STU}")),
    ("How many machines does Suzhou have?", Count(f"machine in {SUZ}")),
    ("List the machines in Monterrey", Ids(f"machine in {MTY}")),
    ("Which lines are in Campinas?", Ids(f"line in {CPS}")),
    ("How many production lines are in China?", Count("line in (site where country = CN)")),
    ("Which lines are in South Africa?", Ids("line in (site where country = ZA)")),
    ("How many lines are in Mexico?", Count("line in (site where country = MX)")),
    ("Which machine has the highest power draw?", Top("machine", "power.busy")),
    ("Which machine has the lowest power?", Top("machine", "power.busy", highest=False)),
    ("Which machine has the highest scrap rate?", Top("machine", "scrap_rate")),
    ("Which machine has the shortest MTBF?", Top("machine", "mtbf", highest=False)),
    ("Which machine has the longest mean time to repair?", Top("machine", "mttr")),
    (
        "Which machines in Suzhou have an MTBF below 500 h?",
        Ids(f"machine in {SUZ}", ("mtbf", "<", 500 * 3600.0)),
    ),
    ("Which machines have a scrap rate above 3%?", Ids("machine", ("scrap_rate", ">", 0.03))),
    (
        "Which machines in Stuttgart draw more than 200 kW?",
        Ids(f"machine in {STU}", ("power.busy", ">", 200_000.0)),
    ),
    ("Which lane has the longest lead time?", Top("lane", "lead_time")),
    ("Which lane has the shortest distance?", Top("lane", "distance", highest=False)),
    (
        "Which lanes are longer than 15000 km in distance?",
        Ids("lane", ("distance", ">", 15_000_000.0)),
    ),
    ("Which warehouse has the largest capacity?", Top("warehouse", "capacity")),
    ("Which product has the highest price?", Top("product", "price")),
    ("Which product is the cheapest?", Top("product", "price", highest=False)),
    ("Which products have a price above 5000 EUR?", Ids("product", ("price", ">", 5000.0))),
    ("Which product has the highest weight?", Top("product", "mass")),
    ("Which material has the highest cost?", Top("material", "cost")),
    ("Which machine has the lowest remaining useful life?", Top("machine", "rul", highest=False)),
    ("Which machine has the lowest health index?", Top("machine", "health", highest=False)),
    ("How many people work in Stuttgart?", Count(f"person -works-at-> {STU}")),
    ("What happens to fill rate if the port of Santos closes for two weeks?", Unanswered()),
    ("What is the meaning of life?", Unanswered()),
    ("Which customer has the highest OEE?", Unanswered()),
]

CHINESE: list[tuple[str, Expect]] = [
    ("斯图加特工厂哪些机器本周需要维护?", Ids(f"{MAINT} in {STU}")),
    ("哪些机器需要维护?", Ids(MAINT)),
    ("苏州工厂哪些设备需要保养?", Ids(f"{MAINT} in {SUZ}")),
    ("欧洲哪些机器需要检修?", Ids(f"{MAINT} in (site bbox {EU_BOX})")),
    ("有多少台机器需要维护?", Count(MAINT)),
    ("欧洲哪些产线的OEE低于80%?", Ids(f"line in (site bbox {EU_BOX})", ("oee", "<", 0.8))),
    ("哪些生产线的OEE低于70%?", Ids("line", ("oee", "<", 0.7))),
    ("中国哪些产线的OEE高于75%?", Ids("line in (site where country = CN)", ("oee", ">", 0.75))),
    ("哪条产线的OEE最低?", Top("line", "oee", highest=False)),
    ("哪条生产线的设备综合效率最高?", Top("line", "oee")),
    ("巴西哪些产线的OEE低于65%?", Ids(f"line in {CPS}", ("oee", "<", 0.65))),
    ("哪个供应商的碳足迹最高?", Top("supplier", "@footprint")),
    ("哪个供应商的碳足迹最低?", Top("supplier", "@footprint", highest=False)),
    ("哪种物料的碳足迹最高?", Top("material", "co2e")),
    ("哪种材料的碳排放最低?", Top("material", "co2e", highest=False)),
    ("哪个工厂的电网排放因子最高?", Top("site", "grid_factor")),
    ("哪个工厂的电网排放因子最低?", Top("site", "grid_factor", highest=False)),
    ("哪条运输线路的排放最高?", Top("lane", "emission_factor")),
    ("哪些供应商在日本?", Ids("supplier where country = JP")),
    ("中国有哪些供应商?", Ids("supplier where country = CN")),
    ("列出巴西的供应商", Ids("supplier where country = BR")),
    ("印度有多少个供应商?", Count("supplier where country = IN")),
    ("我们有多少个供应商?", Count("supplier")),
    ("亚洲有哪些供应商?", Ids(f"supplier bbox {ASIA_BOX}")),
    ("南美有哪些供应商?", Ids(f"supplier bbox {SA_BOX}")),
    ("北美有哪些供应商?", Ids(f"supplier bbox {NA_BOX}")),
    ("非洲有哪些供应商?", Ids(f"supplier bbox {AF_BOX}")),
    ("欧洲有多少个客户?", Count(f"customer bbox {EU_BOX}")),
    ("美国有哪些客户?", Ids("customer where country = US")),
    ("欧洲有哪些仓库?", Ids(f"warehouse bbox {EU_BOX}")),
    ("我们有几个仓库?", Count("warehouse")),
    ("亚洲有哪些工厂?", Ids(f"site bbox {ASIA_BOX}")),
    ("德国有哪些工厂?", Ids("site where country = DE")),
    ("一共有多少个工厂?", Count("site")),
    ("德国有多少台机器?", Count("machine in (site where country = DE)")),
    ("斯图加特工厂有多少台设备?", Count(f"machine in {STU}")),
    ("苏州有几台机器?", Count(f"machine in {SUZ}")),
    ("列出蒙特雷的机器", Ids(f"machine in {MTY}")),
    ("坎皮纳斯有哪些产线?", Ids(f"line in {CPS}")),
    ("中国有多少条生产线?", Count("line in (site where country = CN)")),
    ("南非有哪些产线?", Ids("line in (site where country = ZA)")),
    ("墨西哥有几条产线?", Count("line in (site where country = MX)")),
    ("哪台机器的功率最大?", Top("machine", "power.busy")),
    ("哪台设备的功率最小?", Top("machine", "power.busy", highest=False)),
    ("哪台机器的废品率最高?", Top("machine", "scrap_rate")),
    ("哪台机器的平均故障间隔最短?", Top("machine", "mtbf", highest=False)),
    ("哪台机器的平均修复时间最长?", Top("machine", "mttr")),
    (
        "苏州哪些机器的平均故障间隔低于500小时?",
        Ids(f"machine in {SUZ}", ("mtbf", "<", 500 * 3600.0)),
    ),
    ("哪些机器的废品率高于3%?", Ids("machine", ("scrap_rate", ">", 0.03))),
    (
        "斯图加特哪些机器的功率超过200千瓦?",
        Ids(f"machine in {STU}", ("power.busy", ">", 200_000.0)),
    ),
    ("哪条运输线路的交货期最长?", Top("lane", "lead_time")),
    ("哪条线路的距离最短?", Top("lane", "distance", highest=False)),
    ("哪些线路的距离超过15000公里?", Ids("lane", ("distance", ">", 15_000_000.0))),
    ("哪个仓库的容量最大?", Top("warehouse", "capacity")),
    ("哪个产品最贵?", Top("product", "price")),
    ("哪个产品的价格最低?", Top("product", "price", highest=False)),
    ("哪些产品的价格高于5000欧元?", Ids("product", ("price", ">", 5000.0))),
    ("哪个产品最重?", Top("product", "mass")),
    ("哪种物料的成本最高?", Top("material", "cost")),
    ("哪台机器的剩余寿命最短?", Top("machine", "rul", highest=False)),
    ("哪台机器的健康指数最低?", Top("machine", "health", highest=False)),
    ("斯图加特有多少员工?", Count(f"person -works-at-> {STU}")),
    ("如果桑托斯港关闭两周,供货率会怎样?", Unanswered()),
    ("今天天气怎么样?", Unanswered()),
    ("哪个客户的OEE最高?", Unanswered()),
]
