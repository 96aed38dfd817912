"""A stand-in business page: the incoming invoices (进项发票) of an enterprise.

The list is derived from the tax id, not drawn from the seeded generator, so
reading it never changes which codes the bureau sends next.
"""

import zlib
from datetime import date, timedelta
from typing import TypedDict


class Invoice(TypedDict):
    invoice_number: str
    issued_on: str
    seller_tax_id: str
    seller_name: str
    amount: str
    tax_amount: str


_SELLERS = [
    ("91440300MA5EXAMP01", "示例办公用品（深圳）有限公司"),
    ("91420100MA4KEXAM02", "示例物流（武汉）有限公司"),
    ("91110000MA01EXAM03", "示例信息技术（北京）有限公司"),
]


def incoming(tax_id: str, today: date) -> list[Invoice]:
    base = zlib.crc32(tax_id.encode())
    return [_invoice(base, index, today) for index in range(len(_SELLERS))]


def _invoice(base: int, index: int, today: date) -> Invoice:
    seller_tax_id, seller_name = _SELLERS[index]
    cents = (base >> index) % 5_000_000 + 10_000
    tax_cents = cents * 13 // 100
    return Invoice(
        invoice_number=f"{26_44_0000_0000_0000_0000 + base + index:020d}",
        issued_on=(today - timedelta(days=3 * index + 1)).isoformat(),
        seller_tax_id=seller_tax_id,
        seller_name=seller_name,
        amount=_yuan(cents),
        tax_amount=_yuan(tax_cents),
    )


def _yuan(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"
