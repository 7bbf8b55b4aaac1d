"""The kinds of items the synthetic province implements: names, types, limits, flows, materials.

Each :class:`Template` is implemented by one department of every region of its level, which
gives the catalog a few hundred items. Names, types and limits follow real catalogs (limits
in working days unless the unit says ``N``).
"""

from __future__ import annotations

from dataclasses import dataclass

# Flows: step names with a weight for sharing out the promised limit, and whether mandatory.
# The last mandatory step never carries a risk point (see items.py).
FLOWS: dict[str, tuple[tuple[str, int, bool], ...]] = {
    "licence": (("初审", 1, True), ("审查", 4, True), ("决定", 2, True), ("制证", 1, True),
                ("送达", 1, False)),
    "licence_site": (("初审", 1, True), ("现场核查", 3, True), ("审查", 3, True), ("决定", 2, True),
                     ("制证", 1, True), ("送达", 1, False)),
    "penalty": (("立案", 1, True), ("调查取证", 5, True), ("审核", 2, True), ("决定", 2, True),
                ("送达", 1, True)),
    "benefit": (("初审", 1, True), ("审核", 3, True), ("决定", 2, True), ("办结", 1, True)),
    "confirm": (("审查", 3, True), ("决定", 2, True), ("办结", 1, True), ("送达", 1, False)),
    "instant": (("审核", 0, True), ("办结", 0, True)),
}  # fmt: skip

# Materials: (name, required, originals, copies).
Mat = tuple[str, bool, int, int]
APPLICATION: Mat = ("申请表", True, 1, 0)
ID_CARD: Mat = ("居民身份证", True, 1, 1)
LICENCE: Mat = ("营业执照", True, 0, 1)
MANDATE: Mat = ("授权委托书", False, 1, 0)
PHOTO: Mat = ("近期免冠照片", True, 2, 0)


@dataclass(frozen=True)
class Fee:
    basis: str
    amount: float | None = None
    unit_price: float | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Template:
    name: str
    item_type: str  # A.1
    department: str  # department short code (geography.DEPARTMENTS)
    level: str  # A.2 of the implementing bodies: 2 province, 3 city, 4 county
    case_kind: str  # 1 instant, 2 promised
    legal: int
    promised: int
    unit: str
    flow: str
    materials: tuple[Mat, ...]
    licence: str | None = None  # name of the licence issued (result 0), or None (result 6)
    fee: Fee | None = None
    fine: int = 0  # > 0: discretion tiers for fines up to this many yuan
    applicants: str = "1"  # A.4 codes of its usual applicants
    basis: str = "《中华人民共和国行政许可法》"


T = Template
TEMPLATES: tuple[Template, ...] = (
    T("食品经营许可", "01", "SC", "4", "2", 20, 10, "W", "licence_site",
      (APPLICATION, LICENCE, ("经营场所使用证明", True, 0, 1), ("食品安全管理制度", True, 1, 0), MANDATE),
      licence="食品经营许可证", applicants="26", basis="《中华人民共和国食品安全法》"),
    T("企业设立登记", "01", "SC", "4", "2", 15, 3, "W", "licence",
      (APPLICATION, ("公司章程", True, 1, 0), ("股东主体资格证明", True, 0, 1), ("住所使用证明", True, 0, 1), MANDATE),
      licence="营业执照", applicants="2", basis="《中华人民共和国市场主体登记管理条例》"),
    T("个体工商户登记", "01", "SC", "4", "1", 15, 0, "W", "instant",
      (APPLICATION, ID_CARD, ("经营场所证明", True, 0, 1)), licence="营业执照", applicants="1"),
    T("药品零售企业经营许可", "01", "SC", "3", "2", 30, 15, "W", "licence_site",
      (APPLICATION, LICENCE, ("执业药师注册证", True, 0, 1), ("营业场所平面图", True, 1, 0), MANDATE),
      licence="药品经营许可证", applicants="2", basis="《中华人民共和国药品管理法》"),
    T("特种设备使用登记", "01", "SC", "3", "2", 15, 5, "W", "licence",
      (APPLICATION, LICENCE, ("特种设备产品合格证", True, 0, 1), ("监督检验证明", True, 0, 1)),
      licence="特种设备使用登记证", applicants="23"),
    T("对未取得食品经营许可从事食品经营活动的行政处罚", "02", "SC", "4", "2", 60, 45, "N", "penalty",
      (("立案审批表", True, 1, 0), ("现场检查笔录", True, 1, 0), ("当事人身份证明", True, 0, 1)),
      fine=100000, applicants="12", basis="《中华人民共和国食品安全法》第一百二十二条"),
    T("查封、扣押涉嫌违法的食品", "03", "SC", "4", "2", 30, 30, "N", "penalty",
      (("查封扣押审批表", True, 1, 0), ("现场笔录", True, 1, 0), ("物品清单", True, 1, 0)),
      applicants="12", basis="《中华人民共和国行政强制法》"),
    T("食品生产经营日常监督检查", "06", "SC", "4", "2", 10, 5, "W", "confirm",
      (("检查通知书", True, 1, 0), ("检查要点表", True, 1, 0)), applicants="2",
      basis="《食品生产经营监督检查管理办法》"),
    T("居民身份证换领", "20", "GA", "4", "2", 60, 20, "N", "confirm",
      (ID_CARD, ("居民户口簿", True, 1, 0), PHOTO), licence="居民身份证",
      fee=Fee("《关于居民身份证收费标准的通知》", amount=20.00), basis="《中华人民共和国居民身份证法》"),
    T("户口迁移", "07", "GA", "4", "2", 20, 5, "W", "confirm",
      (APPLICATION, ("居民户口簿", True, 1, 0), ("准予迁入证明", True, 1, 0)),
      basis="《中华人民共和国户口登记条例》"),
    T("普通护照签发", "01", "GA", "3", "2", 7, 7, "W", "licence",
      (APPLICATION, ID_CARD, PHOTO), licence="普通护照",
      fee=Fee("《关于调整护照收费标准的通知》", amount=120.00), basis="《中华人民共和国护照法》"),
    T("机动车驾驶证换证", "20", "GA", "3", "1", 5, 0, "W", "instant",
      (APPLICATION, ID_CARD, ("身体条件证明", True, 1, 0)), licence="机动车驾驶证",
      fee=Fee("《机动车驾驶证工本费收费标准》", amount=10.00), basis="《机动车驾驶证申领和使用规定》"),
    T("见义勇为人员奖励", "08", "GA", "3", "2", 30, 20, "W", "benefit",
      (APPLICATION, ("见义勇为事迹材料", True, 1, 0), ("证人证言", False, 1, 0)),
      basis="《见义勇为人员奖励和保护条例》"),
    T("婚姻登记", "07", "MZ", "4", "1", 1, 0, "W", "instant",
      (ID_CARD, ("居民户口簿", True, 1, 0), PHOTO, ("本人无配偶声明", True, 1, 0)),
      licence="结婚证", basis="《婚姻登记条例》"),
    T("最低生活保障金给付", "05", "MZ", "4", "2", 30, 20, "W", "benefit",
      (APPLICATION, ID_CARD, ("家庭收入证明", True, 1, 0), ("家庭财产申报表", True, 1, 0)),
      basis="《社会救助暂行办法》"),
    T("高龄津贴发放", "05", "MZ", "4", "2", 20, 10, "W", "benefit",
      (APPLICATION, ID_CARD, ("银行账户信息", True, 0, 1)), basis="《江川省老年人权益保障条例》"),
    T("残疾人证核发", "07", "MZ", "4", "2", 20, 10, "W", "confirm",
      (APPLICATION, ID_CARD, PHOTO, ("残疾评定表", True, 1, 0)), licence="残疾人证",
      basis="《残疾人保障法》"),
    T("失业保险金申领", "05", "RS", "4", "2", 20, 5, "W", "benefit",
      (APPLICATION, ID_CARD, ("解除劳动合同证明", True, 1, 0)), basis="《失业保险条例》"),
    T("城镇职工基本养老保险关系转移接续", "10", "RS", "3", "2", 15, 10, "W", "benefit",
      (APPLICATION, ID_CARD, ("参保缴费凭证", True, 1, 0)), basis="《城镇企业职工基本养老保险关系转移接续暂行办法》"),
    T("社会保障卡申领", "20", "RS", "4", "1", 5, 0, "W", "instant",
      (APPLICATION, ID_CARD, PHOTO), licence="社会保障卡", basis="《社会保障卡管理办法》"),
    T("建设工程规划许可证核发", "01", "ZR", "3", "2", 20, 10, "W", "licence_site",
      (APPLICATION, ("建设工程设计方案", True, 1, 0), ("土地权属证明", True, 0, 1), ("建设项目批准文件", True, 0, 1)),
      licence="建设工程规划许可证", applicants="235", basis="《中华人民共和国城乡规划法》"),
    T("不动产登记", "07", "ZR", "4", "2", 30, 5, "W", "confirm",
      (APPLICATION, ID_CARD, ("不动产权属来源证明", True, 1, 0), ("完税凭证", True, 0, 1)),
      licence="不动产权证书", fee=Fee("《不动产登记收费标准》", amount=80.00),
      applicants="12", basis="《不动产登记暂行条例》"),
    T("不动产登记资料查询", "20", "ZR", "4", "1", 5, 0, "W", "instant",
      (APPLICATION, ID_CARD), fee=Fee("《不动产登记资料查询收费标准》", unit_price=1.00, unit="页"),
      basis="《不动产登记资料查询暂行办法》"),
    T("林地权属争议裁决", "09", "ZR", "4", "2", 60, 45, "W", "penalty",
      (("裁决申请书", True, 1, 0), ("权属证明材料", True, 0, 1), ("四至界线图", True, 1, 0)),
      applicants="126", basis="《林木林地权属争议处理办法》"),
    T("建筑工程施工许可证核发", "01", "ZJ", "4", "2", 15, 7, "W", "licence",
      (APPLICATION, ("建设工程规划许可证", True, 0, 1), ("施工合同", True, 0, 1), ("安全施工措施资料", True, 1, 0)),
      licence="建筑工程施工许可证", applicants="2", basis="《中华人民共和国建筑法》"),
    T("商品房预售许可", "01", "ZJ", "3", "2", 20, 10, "W", "licence_site",
      (APPLICATION, LICENCE, ("土地使用权证", True, 0, 1), ("预售方案", True, 1, 0)),
      licence="商品房预售许可证", applicants="2", basis="《城市商品房预售管理办法》"),
    T("道路货物运输经营许可", "01", "JT", "3", "2", 20, 10, "W", "licence",
      (APPLICATION, LICENCE, ("车辆技术等级证明", True, 0, 1), ("驾驶人员从业资格证", True, 0, 1)),
      licence="道路运输经营许可证", applicants="12", basis="《中华人民共和国道路运输条例》"),
    T("出租汽车驾驶员从业资格证核发", "01", "JT", "3", "2", 20, 10, "W", "licence",
      (APPLICATION, ID_CARD, ("机动车驾驶证", True, 0, 1), ("无重大交通责任事故记录证明", True, 1, 0)),
      licence="从业资格证", applicants="1", basis="《出租汽车驾驶员从业资格管理规定》"),
    T("对违反道路运输管理规定的行政处罚", "02", "JT", "3", "2", 90, 60, "N", "penalty",
      (("立案审批表", True, 1, 0), ("询问笔录", True, 1, 0), ("当事人身份证明", True, 0, 1)),
      fine=30000, applicants="12", basis="《中华人民共和国道路运输条例》第六十三条"),
    T("医疗机构执业登记", "01", "WJ", "3", "2", 45, 20, "W", "licence_site",
      (APPLICATION, ("设置医疗机构批准书", True, 0, 1), ("医疗机构用房产权证明", True, 0, 1), ("规章制度", True, 1, 0)),
      licence="医疗机构执业许可证", applicants="234", basis="《医疗机构管理条例》"),
    T("医师执业注册", "01", "WJ", "3", "2", 20, 10, "W", "licence",
      (APPLICATION, ID_CARD, ("医师资格证书", True, 0, 1), ("健康证明", True, 1, 0), PHOTO),
      licence="医师执业证书", basis="《中华人民共和国医师法》"),
    T("民办学校设立许可", "01", "JY", "3", "2", 90, 60, "N", "licence_site",
      (APPLICATION, ("举办者资格证明", True, 0, 1), ("资产来源证明", True, 1, 0), ("学校章程", True, 1, 0)),
      licence="办学许可证", applicants="34", basis="《中华人民共和国民办教育促进法》"),
    T("教师资格认定", "07", "JY", "4", "2", 30, 20, "W", "confirm",
      (APPLICATION, ID_CARD, ("学历证书", True, 0, 1), ("普通话水平测试等级证书", True, 0, 1), PHOTO),
      licence="教师资格证书", basis="《教师资格条例》"),
    T("排污许可证核发", "01", "HB", "3", "2", 20, 15, "W", "licence_site",
      (APPLICATION, LICENCE, ("自行监测方案", True, 1, 0), ("污染防治设施说明", True, 1, 0)),
      licence="排污许可证", applicants="2", basis="《排污许可管理条例》"),
    T("建设项目环境影响报告表审批", "01", "HB", "4", "2", 30, 15, "W", "licence",
      (APPLICATION, ("环境影响报告表", True, 1, 0), ("建设项目批准文件", True, 0, 1)),
      applicants="2", basis="《中华人民共和国环境影响评价法》"),
    T("对违法排放污染物的行政处罚", "02", "HB", "3", "2", 90, 60, "N", "penalty",
      (("立案审批表", True, 1, 0), ("监测报告", True, 1, 0), ("当事人身份证明", True, 0, 1)),
      fine=500000, applicants="2", basis="《中华人民共和国大气污染防治法》第九十九条"),
    T("农药经营许可", "01", "NY", "3", "2", 20, 10, "W", "licence_site",
      (APPLICATION, LICENCE, ("营业场所证明", True, 0, 1), ("安全管理制度", True, 1, 0)),
      licence="农药经营许可证", applicants="12", basis="《农药管理条例》"),
    T("动物防疫条件合格证核发", "01", "NY", "4", "2", 20, 10, "W", "licence_site",
      (APPLICATION, ("场所平面图", True, 1, 0), ("防疫制度", True, 1, 0), MANDATE),
      licence="动物防疫条件合格证", applicants="12", basis="《中华人民共和国动物防疫法》"),
    T("娱乐场所经营许可", "01", "WL", "4", "2", 20, 10, "W", "licence_site",
      (APPLICATION, LICENCE, ("消防安全检查合格证明", True, 0, 1), ("场所平面图", True, 1, 0)),
      licence="娱乐经营许可证", applicants="2", basis="《娱乐场所管理条例》"),
    T("旅行社业务经营许可", "01", "WL", "2", "2", 20, 10, "W", "licence",
      (APPLICATION, LICENCE, ("经营场所证明", True, 0, 1), ("质量保证金存款证明", True, 1, 0)),
      licence="旅行社业务经营许可证", applicants="2", basis="《旅行社条例》"),
    T("医保参保登记", "20", "YB", "4", "1", 5, 0, "W", "instant",
      (APPLICATION, ID_CARD), basis="《中华人民共和国社会保险法》"),
    T("生育津贴申领", "05", "YB", "4", "2", 20, 10, "W", "benefit",
      (APPLICATION, ID_CARD, ("医学出生证明", True, 0, 1), ("银行账户信息", True, 0, 1)),
      basis="《中华人民共和国社会保险法》"),
    T("安全生产许可", "01", "YJ", "2", "2", 45, 20, "W", "licence_site",
      (APPLICATION, LICENCE, ("安全生产责任制文件", True, 1, 0), ("安全评价报告", True, 1, 0)),
      licence="安全生产许可证", applicants="2", basis="《安全生产许可证条例》"),
    T("危险化学品经营许可", "01", "YJ", "3", "2", 30, 15, "W", "licence_site",
      (APPLICATION, LICENCE, ("经营场所证明", True, 0, 1), ("安全评价报告", True, 1, 0)),
      licence="危险化学品经营许可证", applicants="2", basis="《危险化学品安全管理条例》"),
    T("生产安全事故应急预案备案", "10", "YJ", "4", "2", 20, 10, "W", "confirm",
      (APPLICATION, ("应急预案文本", True, 1, 0), ("评审意见", True, 1, 0)),
      applicants="2", basis="《生产安全事故应急预案管理办法》"),
)  # fmt: skip

# Materials no item lists: what a clerk demands "beyond the guide" (materials_beyond_guide).
BEYOND_GUIDE: tuple[str, ...] = (
    "无犯罪记录证明", "户口本复印件加盖公章", "婚姻状况证明", "银行资信证明", "社区居住证明",
    "单位介绍信", "近期体检报告", "验资报告", "学历公证书", "亲属关系证明",
)  # fmt: skip

RISK_TEXT: dict[str, str] = {
    "two_person_review": "审核意见由一人作出，存在擅断风险",
    "separation_of_duties": "受理与决定由同一人办理，存在暗箱操作风险",
    "no_conflict_of_interest": "经办人与申请人存在利害关系未回避",
    "office_hours": "非工作时间办理，存在私下办理风险",
    "no_edit_after_finish": "办结后篡改办件数据，存在弄虚作假风险",
}
