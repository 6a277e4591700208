"""Platform export layouts: turn a month of canonical orders and lines into each platform's sheet.

Headers follow the ingest presets (``luopan/ingest/presets/*.yaml``: the first alias of every
mapped column) plus the extra columns real exports carry. Values are formatted the way each
platform writes them (Chinese statuses, ``￥`` amounts, ``="…"`` IDs, Chinese dates).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

STATUS = {
    "tmall": {
        "completed": "交易成功",
        "closed": "交易关闭",
        "refunded": "交易关闭(退款)",
        "shipped": "卖家已发货",
        "paid": "买家已付款",
        "created": "等待买家付款",
    },
    "jd": {
        "completed": "完成",
        "closed": "已取消",
        "refunded": "退款成功",
        "shipped": "等待确认收货",
        "paid": "等待出库",
        "created": "等待付款",
    },
    "douyin": {
        "completed": "已完成",
        "closed": "已关闭",
        "refunded": "售后完成",
        "shipped": "已发货",
        "paid": "待发货",
        "created": "待支付",
    },
    "youzan": {
        "completed": "交易完成",
        "closed": "交易关闭",
        "refunded": "已退款",
        "shipped": "已发货",
        "paid": "待发货",
        "created": "待付款",
    },
    "meituan": {
        "completed": "已完成",
        "closed": "已取消",
        "refunded": "已退款",
        "shipped": "配送中",
        "paid": "已接单",
        "created": "已接单",
    },
}


def money(x: pd.Series | np.ndarray, *, yen: bool = False) -> pd.Series:
    s = pd.Series(np.asarray(x, dtype=float))
    if yen:
        return "￥" + s.map(lambda v: f"{v:,.2f}")
    return s.map(lambda v: f"{v:.2f}")


def stamp(ts: pd.Series, style: str) -> pd.Series:
    """Format naive Beijing timestamps: ``iso``, ``slash`` (Excel re-save) or ``zh``."""
    t = pd.Series(pd.to_datetime(ts.to_numpy()))
    if style == "iso":
        out = t.dt.strftime("%Y-%m-%d %H:%M:%S")
    elif style == "slash":
        out = (
            t.dt.year.astype("Int64").astype("string")
            + "/"
            + t.dt.month.astype("Int64").astype("string")
            + "/"
            + t.dt.day.astype("Int64").astype("string")
            + " "
            + t.dt.hour.astype("Int64").astype("string")
            + ":"
            + t.dt.strftime("%M")
        )
    else:
        out = t.dt.strftime("%Y年%m月%d日 %H:%M")
    return out.astype(object).where(t.notna(), "")


def _status(om: pd.DataFrame, platform: str) -> pd.Series:
    return om["status"].map(STATUS[platform]).reset_index(drop=True)


def _r(df: pd.DataFrame, col: str) -> pd.Series:
    return df[col].reset_index(drop=True)


def tmall_orders(om: pd.DataFrame, *, month_index: int) -> pd.DataFrame:
    """ExportOrderList: one row per order; styles alternate by month like real re-exports."""
    odd = month_index % 2 == 1
    oid = _r(om, "order_id")
    yen = month_index % 3 != 0
    return pd.DataFrame(
        {
            "订单编号": ('="' + oid + '"') if odd else oid,
            "买家会员名": _r(om, "buyer"),
            "买家支付宝账号": _r(om, "buyer").str.slice(0, 3) + "***@163.com",
            "买家应付货款": money(om["gross"], yen=yen),
            "买家应付邮费": money(np.zeros(len(om)), yen=yen),
            "总金额": money(om["gross"], yen=yen),
            "买家实际支付金额": money(om["paid"], yen=yen),
            "订单状态": _status(om, "tmall"),
            "买家留言": "",
            "收货人姓名": _r(om, "rname"),
            "收货地址 ": _r(om, "province") + " " + _r(om, "city") + " " + _r(om, "address"),
            "联系手机": _r(om, "rphone").str.slice(0, 3) + "****" + _r(om, "rphone").str.slice(7),
            "订单创建时间": stamp(om["ordered_at"], "slash" if odd else "iso"),
            "订单付款时间 ": stamp(om["paid_at"], "slash" if odd else "iso"),
            "宝贝总数量": _r(om, "n_items"),
            "物流单号": "SF" + oid.str.slice(-12),
            "物流公司": "顺丰速运",
            "店铺名称": "鲜丰生鲜旗舰店",
            "退款金额": money(om["refund"], yen=yen),
        }
    )


def tmall_items(lm: pd.DataFrame, om: pd.DataFrame, *, month_index: int) -> pd.DataFrame:
    odd = month_index % 2 == 1
    oid = _r(lm, "order_id")
    status = lm["order_id"].map(om.set_index("order_id")["status"]).map(STATUS["tmall"])
    return pd.DataFrame(
        {
            "订单编号": ('="' + oid + '"') if odd else oid,
            "标题": _r(lm, "name"),
            "价格": money(lm["unit"]),
            "购买数量": _r(lm, "qty"),
            "外部系统编号": "",
            "商品属性": "规格：" + _r(lm, "name").str.split(" ").str[-1],
            "套餐信息": "",
            "备注": "",
            "订单状态": status.reset_index(drop=True),
            "商家编码": _r(lm, "sku"),
            "实付金额": money(lm["paid"]),
        }
    )


def _order_fields(lm: pd.DataFrame, om: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    return om.set_index("order_id").loc[lm["order_id"].to_numpy(), cols].reset_index(drop=True)


def jd_orders(lm: pd.DataFrame, om: pd.DataFrame) -> pd.DataFrame:
    o = _order_fields(
        lm,
        om,
        [
            "buyer",
            "ordered_at",
            "paid_at",
            "status",
            "gross",
            "paid",
            "rname",
            "rphone",
            "province",
            "city",
            "address",
        ],
    )
    return pd.DataFrame(
        {
            "订单号": _r(lm, "order_id"),
            "商品ID": "10" + _r(lm, "sku").str.slice(2).str.zfill(9),
            "商品名称": _r(lm, "name"),
            "订购数量": _r(lm, "qty"),
            "支付方式": "在线支付",
            "下单时间": stamp(o["ordered_at"], "iso"),
            "京东价": _r(lm, "unit").round(2),
            "订单金额": o["gross"].round(2),
            "应付金额": o["paid"].round(2),
            "商品实付金额": _r(lm, "paid").round(2),
            "订单状态": o["status"].map(STATUS["jd"]),
            "订单类型": "SOP",
            "下单帐号": o["buyer"],
            "客户姓名": o["rname"],
            "客户地址": o["province"] + o["city"] + o["address"],
            "联系电话": o["rphone"].str.slice(0, 3) + "****" + o["rphone"].str.slice(7),
            "付款确认时间": stamp(o["paid_at"], "iso"),
            "货号": _r(lm, "sku"),
            "订单来源": "移动端订单",
        }
    )


def douyin_orders(lm: pd.DataFrame, om: pd.DataFrame) -> pd.DataFrame:
    o = _order_fields(
        lm,
        om,
        [
            "buyer",
            "ordered_at",
            "paid_at",
            "status",
            "rname",
            "rphone",
            "province",
            "city",
            "address",
        ],
    )
    return pd.DataFrame(
        {
            "主订单编号": _r(lm, "order_id"),
            "子订单编号": _r(lm, "order_id") + _r(lm, "line_no").astype(str).str.zfill(2),
            "选购商品": _r(lm, "name"),
            "商品规格": _r(lm, "name").str.split(" ").str[-1],
            "商品ID": "37" + _r(lm, "sku").str.slice(2).str.zfill(17),
            "商家编码": _r(lm, "sku"),
            "商品数量": _r(lm, "qty"),
            "商品单价": money(lm["unit"]),
            "商品金额": money(lm["gross"]),
            "订单应付金额": money(lm["paid"]),
            "运费": "0.00",
            "优惠总金额": money(lm["discount"]),
            "支付方式": "抖音支付",
            "订单提交时间": stamp(o["ordered_at"], "zh"),
            "支付完成时间": stamp(o["paid_at"], "zh"),
            "订单状态": o["status"].map(STATUS["douyin"]),
            "售后状态": np.where(o["status"] == "refunded", "退款成功", "-"),
            "收件人": o["rname"],
            "收件人手机号": o["rphone"].str.slice(0, 3) + "****" + o["rphone"].str.slice(7),
            "省": o["province"],
            "市": o["city"],
            "详细地址": o["address"],
            "买家昵称": o["buyer"],
        }
    )


def youzan_orders(lm: pd.DataFrame, om: pd.DataFrame) -> pd.DataFrame:
    o = _order_fields(
        lm,
        om,
        [
            "buyer",
            "ordered_at",
            "paid_at",
            "status",
            "gross",
            "discount",
            "paid",
            "refund",
            "rname",
            "rphone",
            "province",
            "city",
            "address",
            "store_name",
        ],
    )
    return pd.DataFrame(
        {
            "订单号": _r(lm, "order_id"),
            "销售渠道": "微信小程序",
            "归属店铺": o["store_name"],
            "订单类型": "普通订单",
            "订单状态": o["status"].map(STATUS["youzan"]),
            "订单创建时间": stamp(o["ordered_at"], "iso"),
            "买家付款时间": stamp(o["paid_at"], "iso"),
            "商品金额合计": money(o["gross"]),
            "运费": "0.00",
            "店铺优惠合计": money(o["discount"]),
            "订单实付金额": money(o["paid"]),
            "订单已退款金额": money(o["refund"]),
            "收货人/提货人": o["rname"],
            "收货人手机号/提货人手机号": o["rphone"],
            "收货人省份": o["province"],
            "收货人城市": o["city"],
            "详细收货地址/提货地址": o["address"],
            "买家手机号": o["buyer"],
            "商品名称": _r(lm, "name"),
            "商品编码": _r(lm, "sku"),
            "商品数量": _r(lm, "qty"),
            "商品单价": money(lm["unit"]),
            "商品实际成交金额": money(lm["paid"]),
        }
    )


def meituan_orders(lm: pd.DataFrame, om: pd.DataFrame) -> pd.DataFrame:
    o = _order_fields(
        lm, om, ["buyer", "ordered_at", "paid_at", "status", "store_id", "store_name"]
    )
    return pd.DataFrame(
        {
            "订单编号": _r(lm, "order_id"),
            "门店ID": o["store_id"],
            "门店名称": o["store_name"],
            "用户ID": o["buyer"],
            "下单时间": stamp(o["ordered_at"], "iso"),
            "支付时间": stamp(o["paid_at"], "iso"),
            "订单状态": o["status"].map(STATUS["meituan"]),
            "商品名称": _r(lm, "name"),
            "商品编码": _r(lm, "sku"),
            "数量": _r(lm, "qty"),
            "单价": _r(lm, "unit").round(2),
            "商品原价": _r(lm, "gross").round(2),
            "商家活动支出": _r(lm, "discount").round(2),
            "用户实付金额": _r(lm, "paid").round(2),
        }
    )


XLSX_NUMERIC = {
    "jd": {"订购数量", "京东价", "订单金额", "应付金额", "商品实付金额"},
    "meituan": {"数量", "单价", "商品原价", "商家活动支出", "用户实付金额"},
}
