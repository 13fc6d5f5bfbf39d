"""Documents written for the tests (not from the corpus): a plan with the numbering and punctuation
the five documents lack, and what a careful reader finds in it."""

EXAMPLE = """示例市人民政府办公室
关于加快发展现代职业教育的实施方案(征求意见稿)
为贯彻落实《国家职业教育改革实施方案》,结合我市实际,制定本方案.
(一)总体目标.到二〇二五年,全市建成3至5个市级公共实训基地,"双师型"教师占专业课教师比例不低于百分之五十,培育产教融合型企业20家以上.
(二)专业建设.建设10个左右市级骨干专业,打造两个省级优质专业群;每年开展职业技能培训1.5万人次以上.
-- 职业院校生均拨款不低于每生每年6000元.
(三)保障措施.每年至少召开两次联席会议.教育费附加用于职业教育的比例不低于30%.
示例市人民政府办公室
2022年5月20日
"""

# (value, value_max, unit, comparator, year, metric) of every target in EXAMPLE, read by hand.
EXAMPLE_TARGETS = sorted(
    [
        (3, 5, "count", "=", 2025, "public_training_bases"),
        (50, None, "percent", ">=", 2025, "double_qualified_teacher_share"),
        (20, None, "count", ">=", 2025, "industry_education_enterprises"),
        (10, None, "count", "~", None, "key_specialties"),
        (2, None, "count", "=", None, "quality_specialties"),
        (15000, None, "person_times", ">=", None, "label:职业技能培训"),
        (6000, None, "yuan", ">=", None, "label:职业院校生均拨款"),  # 职业院校: secondary or higher, unsaid
        (2, None, "times", ">=", None, "coordination_meetings"),
        (30, None, "percent", ">=", None, "surcharge_share_for_vocational"),
    ],
    key=repr,
)

EXAMPLE_METADATA = {
    "title": "关于加快发展现代职业教育的实施方案",
    "doc_number": "",
    "issued_date": "2022-05-20",
    "issuer": "示例市人民政府办公室",
    "status": "draft",
}

HOSTILE = """测试市人民政府
关于网页安全的测试方案
一、要求
（一）显示。网页中出现<script>alert('x')</script>与<img src=x onerror=alert(1)>时必须显示为文字，建设2个<b>示范</b>实训基地。
"""
