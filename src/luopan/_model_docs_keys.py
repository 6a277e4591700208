"""The zh/en text of every config key and fixed value (re-exported by :mod:`luopan.model_docs_text`).

``KEYS`` is keyed by ``file:path`` as :func:`luopan.model_docs.config_keys` spells it; a key of
one channel type (``channels.<name>[wecom].url_env``) may use the type-free path
(``channels.<name>.url_env``). ``ENUMS`` has the text of each fixed value of a key. A test fails
when a key or a fixed value has no text in one of the languages, and when a text names a key
that no longer exists.
"""

from __future__ import annotations

__all__ = ["ENUMS", "KEYS"]

# (中文, English)
KEYS: dict[str, tuple[str, str]] = {
    # ---------------------------------------------------------------- luopan.yaml
    "luopan.yaml:name": (
        "工作区（品牌）名称，显示在报告与驾驶舱中",
        "workspace (brand) name, shown in reports and the cockpit",
    ),
    "luopan.yaml:timezone": (
        "业务时区（IANA 名称）；所有时间按此时区解释与存储",
        "business timezone (IANA name); every timestamp is read and stored in it",
    ),
    "luopan.yaml:currency": ("金额币种代码", "currency code of amounts"),
    "luopan.yaml:language": (
        "界面、报告与通知的语言；环境变量 `LUOPAN_LANG` 优先",
        "language of labels, reports and notifications; `LUOPAN_LANG` overrides it",
    ),
    "luopan.yaml:warehouse": (
        "仓库地址：`duckdb:///文件`（相对工作区）或 `spark://local[*]`",
        "warehouse URL: `duckdb:///FILE` (relative to the workspace) or `spark://local[*]`",
    ),
    "luopan.yaml:metadata": (
        "元数据库（决策日志、事件、行动）：工作区内的 SQLite，或团队共享的 `postgresql://…`（密码用 `${环境变量}`）",
        "metadata store (decision log, incidents, actions): SQLite in the workspace, or `postgresql://…` shared by a team (password as `${ENV_VAR}`)",
    ),
    "luopan.yaml:as_of": (
        "冻结“当前时间”（本地时间），用于演示与回测：数据新鲜度与“时间不晚于当前”校验以它为准",
        "freeze 'now' (local time) for demos and backtests: freshness and future-timestamp checks use it",
    ),
    "luopan.yaml:sources": (
        "数据源列表：平台导出文件、通用映射文件或数据库",
        "the sources: platform exports, generically mapped files or databases",
    ),
    "luopan.yaml:sources[].name": (
        "数据源唯一名称：小写字母、数字与下划线",
        "unique source name: lowercase letters, digits and _",
    ),
    "luopan.yaml:sources[].path": (
        "文件或通配符，相对工作区目录",
        "file or glob, relative to the workspace",
    ),
    "luopan.yaml:sources[].url": (
        "数据库地址（PostgreSQL/MySQL/MariaDB）；密码用 `${环境变量}`",
        "database URL (PostgreSQL/MySQL/MariaDB); secrets as `${ENV_VAR}`",
    ),
    "luopan.yaml:sources[].query": (
        "在数据库上执行的只读 SQL（与 `db_table` 二选一）",
        "read-only SQL run on the database (or `db_table`)",
    ),
    "luopan.yaml:sources[].db_table": (
        "整表读取的数据库表名（与 `query` 二选一）",
        "database table read whole (or `query`)",
    ),
    "luopan.yaml:sources[].preset": (
        "平台预设名（`luopan sources presets` 列出），无需手写映射；与 `table` 二选一",
        "platform preset (`luopan sources presets`), no mapping to write; or `table`",
    ),
    "luopan.yaml:sources[].table": (
        "通用映射写入的规范表；与 `preset` 二选一",
        "canonical table fed by a generic mapping; or `preset`",
    ),
    "luopan.yaml:sources[].columns": (
        "规范列 → 源表头（一个名称、名称列表或下面的映射）；未写的列按规范名与中英文同义词自动匹配",
        "canonical column → source header (a name, a list, or the mapping below); unlisted columns match by canonical name and zh/en synonyms",
    ),
    "luopan.yaml:sources[].columns.<column>.aliases": (
        "依次尝试的源表头",
        "source headers tried in order",
    ),
    "luopan.yaml:sources[].columns.<column>.hash_prefix": (
        "把值哈希为带此前缀的匿名编号（如买家昵称 → 客户编号）",
        "hash the value into a pseudonymous id with this prefix (e.g. buyer nickname → customer id)",
    ),
    "luopan.yaml:sources[].columns.<column>.agg": (
        "一行一明细的导出按主键合并时，本列取值方式",
        "how the column combines when line-level rows are grouped by key",
    ),
    "luopan.yaml:sources[].constants": (
        "写入常量的列，如 `{channel: tmall}`",
        "columns set to a constant, e.g. `{channel: tmall}`",
    ),
    "luopan.yaml:sources[].values": (
        "取值映射，如 `{status: {交易成功: completed}}`",
        "value mapping, e.g. `{status: {交易成功: completed}}`",
    ),
    "luopan.yaml:sources[].creates_customers": (
        "为未出现过的客户编号新建 `customers` 行",
        "create `customers` rows for customer ids not seen before",
    ),
    "luopan.yaml:sources[].encoding": (
        "指定编码，覆盖自动识别（utf-8、gb18030 …）",
        "encoding, overriding detection (utf-8, gb18030 …)",
    ),
    "luopan.yaml:sources[].sheet": ("Excel 工作表名称或序号", "Excel sheet name or index"),
    "luopan.yaml:sources[].delimiter": (
        "CSV 分隔符，覆盖自动识别",
        "CSV delimiter, overriding detection",
    ),
    "luopan.yaml:sources[].late_after_hours": (
        "超过此小时数无新数据即视为迟到（`source_late` 规则）；只含主数据（客户、商品、门店、活动、实验与分组）"
        "的数据源只在显式设置时检查",
        "hours without new data before the source counts as late (`source_late` rule); a source "
        "of master data only (customers, products, stores, campaigns, experiments, assignments) "
        "is checked only when this is set",
    ),
    "luopan.yaml:sources[].description": ("备注说明", "free-text note"),
    # ---------------------------------------------------------------- notify.yaml
    "notify.yaml:language": (
        "通知语言；不填则用工作区语言",
        "language of notifications; default: the workspace's",
    ),
    "notify.yaml:dedup_minutes": (
        "同一事件在此分钟数内只发送一次",
        "the same message is sent once within this many minutes",
    ),
    "notify.yaml:max_attempts": (
        "每条消息的最大尝试次数（含重试）",
        "attempts per message, retries included",
    ),
    "notify.yaml:channels": ("通知通道：名称 → 配置", "notification channels: name → settings"),
    "notify.yaml:channels.<name>.type": ("通道类型", "channel type"),
    "notify.yaml:channels.<name>.url_env": (
        "保存 Webhook 地址的环境变量名（地址本身含密钥，不写进文件）",
        "environment variable holding the webhook URL (the URL carries the token, so it stays out of the file)",
    ),
    "notify.yaml:channels.<name>[wecom].msgtype": ("消息格式", "message format"),
    "notify.yaml:channels.<name>[wecom].mentioned_mobiles": (
        "需要提醒的手机号",
        "mobile numbers to mention",
    ),
    "notify.yaml:channels.<name>[dingtalk].secret_env": (
        "保存加签密钥（SEC…）的环境变量名",
        "environment variable holding the signing secret (SEC…)",
    ),
    "notify.yaml:channels.<name>[dingtalk].at_mobiles": (
        "需要 @ 的手机号",
        "mobile numbers to @-mention",
    ),
    "notify.yaml:channels.<name>[dingtalk].at_all": ("@ 所有人", "@-mention everyone"),
    "notify.yaml:channels.<name>[feishu].secret_env": (
        "保存签名校验密钥的环境变量名",
        "environment variable holding the signing secret",
    ),
    "notify.yaml:channels.<name>[webhook].url": (
        "接收地址（不含密钥时可直接写）",
        "endpoint, when it is not itself a secret",
    ),
    "notify.yaml:channels.<name>[webhook].url_env": (
        "保存接收地址的环境变量名（与 `url` 二选一）",
        "environment variable holding the endpoint (or `url`)",
    ),
    "notify.yaml:channels.<name>[webhook].secret_env": (
        "保存 HMAC-SHA256 签名密钥的环境变量名",
        "environment variable holding the HMAC-SHA256 signing secret",
    ),
    "notify.yaml:channels.<name>[webhook].per_minute": (
        "每分钟最多发送条数",
        "at most this many messages per minute",
    ),
    "notify.yaml:channels.<name>[email].host": ("SMTP 服务器", "SMTP server"),
    "notify.yaml:channels.<name>[email].port": ("SMTP 端口", "SMTP port"),
    "notify.yaml:channels.<name>[email].security": ("连接加密方式", "connection security"),
    "notify.yaml:channels.<name>[email].sender": ("发件人地址", "sender address"),
    "notify.yaml:channels.<name>[email].to": ("收件人地址列表", "recipient addresses"),
    "notify.yaml:channels.<name>[email].username": (
        "SMTP 登录名（不保密时）",
        "SMTP login, when not secret",
    ),
    "notify.yaml:channels.<name>[email].username_env": (
        "保存 SMTP 登录名的环境变量名",
        "environment variable holding the SMTP login",
    ),
    "notify.yaml:channels.<name>[email].password_env": (
        "保存 SMTP 密码的环境变量名",
        "environment variable holding the SMTP password",
    ),
    # ---------------------------------------------------------------- rules/*.yaml
    "rules/*.yaml:rules": (
        "规则列表；同名规则覆盖内置规则",
        "the rules; a rule with a shipped rule's name replaces it",
    ),
    "rules/*.yaml:rules[].name": (
        "规则唯一名称：小写字母、数字与下划线",
        "unique rule name: lowercase letters, digits and _",
    ),
    "rules/*.yaml:rules[].label": (
        "规则标题（事件与通知中显示）",
        "rule title (shown on incidents and notifications)",
    ),
    "rules/*.yaml:rules[].label.zh": ("中文标题", "Chinese title"),
    "rules/*.yaml:rules[].label.en": ("英文标题", "English title"),
    "rules/*.yaml:rules[].metric": (
        "监控的指标（指标目录中的名称）；`freshness` 规则不需要",
        "metric watched (a catalog name); not needed by `freshness` rules",
    ),
    "rules/*.yaml:rules[].grain": ("评估粒度", "grain the rule is evaluated at"),
    "rules/*.yaml:rules[].by": (
        "切片维度，如 `[channel]`、`[campaign_id]`",
        "dimensions to slice by, e.g. `[channel]`, `[campaign_id]`",
    ),
    "rules/*.yaml:rules[].top_k": (
        "只监控最大的前 k 个切片",
        "only the k largest slices are watched",
    ),
    "rules/*.yaml:rules[].condition": ("触发条件", "the condition"),
    "rules/*.yaml:rules[].condition.kind": ("条件类型", "condition type"),
    "rules/*.yaml:rules[].condition.op": ("比较运算", "comparison"),
    "rules/*.yaml:rules[].condition.value": (
        "比较的数值；`change` 与 `target` 用小数（-0.2 = 下降 20%）",
        "number compared with; a fraction for `change` and `target` (-0.2 = down 20%)",
    ),
    "rules/*.yaml:rules[].condition.baseline": (
        "`change` 条件的参照",
        "reference of a `change` condition",
    ),
    "rules/*.yaml:rules[].condition.min_z": (
        "`change` 条件：变化还须超过历史变化稳健标准差的倍数（避免小样本噪声误报）",
        "`change` conditions: the change must also exceed this many robust standard deviations of past changes (keeps noise from firing)",
    ),
    "rules/*.yaml:rules[].for": (
        "连续满足的期数（如“连续3周”为 3）",
        'consecutive periods the condition must hold ("3 weeks running" is 3)',
    ),
    "rules/*.yaml:rules[].cooldown": (
        "触发后多少期内不再触发",
        "periods before the rule may fire again",
    ),
    "rules/*.yaml:rules[].severity": ("严重程度", "severity"),
    "rules/*.yaml:rules[].actions": (
        "触发后的动作（默认只开事件）",
        "what to do when it fires (default: open an incident)",
    ),
    "rules/*.yaml:rules[].actions[].kind": ("动作类型", "action type"),
    "rules/*.yaml:rules[].actions[].channels": (
        "`notify`：`notify.yaml` 中的通道名",
        "`notify`: channel names from `notify.yaml`",
    ),
    "rules/*.yaml:rules[].actions[].playbook": (
        "`playbook`：预案名称（如 `user_recall`）",
        "`playbook`: the playbook's name (e.g. `user_recall`)",
    ),
    "rules/*.yaml:rules[].actions[].title": ("`task`：任务标题", "`task`: the task's title"),
    "rules/*.yaml:rules[].actions[].title.zh": ("中文标题", "Chinese title"),
    "rules/*.yaml:rules[].actions[].title.en": ("英文标题", "English title"),
    "rules/*.yaml:rules[].actions[].owner": ("`task`：负责人", "`task`: owner"),
    "rules/*.yaml:rules[].actions[].due_hours": (
        "`task`：多少小时内完成",
        "`task`: due within this many hours",
    ),
}

ENUMS: dict[str, dict[str, tuple[str, str]]] = {
    "luopan.yaml:language": {"zh": ("中文", "Chinese"), "en": ("英文", "English")},
    "luopan.yaml:sources[].columns.<column>.agg": {
        "first": ("取第一行的值（订单级字段）", "the first row's value (order-level fields)"),
        "sum": ("求和", "the sum"),
    },
    "notify.yaml:language": {"zh": ("中文", "Chinese"), "en": ("英文", "English")},
    "notify.yaml:channels.<name>[wecom].msgtype": {
        "markdown": ("Markdown（最长 4096 字节）", "markdown (at most 4096 bytes)"),
        "text": (
            "纯文本（最长 2048 字节，可 @ 手机号）",
            "plain text (at most 2048 bytes, can mention mobiles)",
        ),
    },
    "notify.yaml:channels.<name>[email].security": {
        "ssl": ("SSL/TLS 直连（端口 465）", "implicit TLS (port 465)"),
        "starttls": ("STARTTLS（端口 587）", "STARTTLS (port 587)"),
        "none": ("不加密（仅限内网）", "no encryption (internal networks only)"),
    },
    "rules/*.yaml:rules[].grain": {
        "day": ("日", "day"),
        "week": ("周（ISO 周，周一开始）", "ISO week, Monday first"),
        "month": ("月", "month"),
        "quarter": ("季度", "quarter"),
        "year": ("年", "year"),
    },
    "rules/*.yaml:rules[].condition.kind": {
        "threshold": (
            "指标值与 `value` 比较，如“健康度低于 65”",
            'the value against `value`, e.g. "health index below 65"',
        ),
        "change": (
            "相对参照（`baseline`）的变化率与 `value` 比较，如“日活波动超过 15%”；节假日与电商节不算异常",
            'relative change against `baseline` compared with `value`, e.g. "DAU moves more than 15%"; holidays and festivals never breach',
        ),
        "target": (
            "实际 / 目标 与 1 + `value` 比较（目标来自指标目录），如 `value: -0.1, op: lt` = 低于目标的 90%",
            "actual / target compared with 1 + `value` (targets from the catalog); `value: -0.1, op: lt` = below 90% of target",
        ),
        "benchmark": (
            "指标值与基准数 `value` 比较，如“促销 ROI 低于 3”",
            'the value against a benchmark number `value`, e.g. "promo ROI below 3"',
        ),
        "freshness": (
            "不看指标：数据源超过 `late_after_hours` 没有新数据即触发",
            "no metric: fires when a source has no new data for `late_after_hours`",
        ),
    },
    "rules/*.yaml:rules[].condition.op": {
        "lt": ("小于", "less than"),
        "le": ("小于等于", "at most"),
        "gt": ("大于", "greater than"),
        "ge": ("大于等于", "at least"),
        "abs_gt": (
            "绝对值大于（仅 `change`：涨跌都算）",
            "absolute value greater than (`change` only: up or down)",
        ),
    },
    "rules/*.yaml:rules[].condition.baseline": {
        "previous": ("上一期", "the previous period"),
        "same_weekday_4w": (
            "最近 4 个正常周同一星期几的均值（跳过已知事件与已报警的日子，最多回看 8 周）",
            "mean of the same weekday in the last 4 ordinary weeks (known events and flagged days skipped, at most 8 weeks back)",
        ),
        "expected": ("异常检测模型的期望值", "the anomaly model's expected value"),
    },
    "rules/*.yaml:rules[].severity": {
        "low": ("低", "low"),
        "medium": ("中", "medium"),
        "high": ("高", "high"),
        "critical": ("紧急", "critical"),
    },
    "rules/*.yaml:rules[].actions[].kind": {
        "open_incident": (
            "开启事件（幂等：同一规则、切片、周期只开一次）",
            "open an incident (idempotent: once per rule, slice and period)",
        ),
        "diagnose": (
            "根因分析：按渠道 × 区域定位变化来源，写入中英文说明",
            "root-cause analysis over channel × region, with a zh/en explanation",
        ),
        "notify": (
            "把事件（含诊断）发送到 `channels`",
            "send the incident (with its diagnosis) to `channels`",
        ),
        "playbook": (
            "按预案生成行动（如 `user_recall` 召回）",
            "log the playbook's actions (e.g. `user_recall`)",
        ),
        "task": ("记录一项带负责人与截止时间的任务", "log a task with owner and due time"),
        "pause_campaign": (
            "记录“暂停该活动”的行动（切片为 `campaign_id` 时）",
            "log a 'pause this campaign' action (when sliced by `campaign_id`)",
        ),
    },
}
