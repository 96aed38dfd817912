"""Tables of the login side's registry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from banshui.core.db import Base, UtcDateTime


class Tenant(Base):
    """A customer of the login side (示例集团); its API key is stored hashed."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Enterprise(Base):
    """An enterprise (企业) by its 统一社会信用代码, within one tenant."""

    __tablename__ = "enterprises"
    __table_args__ = (UniqueConstraint("tenant_id", "tax_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    tax_id: Mapped[str] = mapped_column(String(18), index=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(4))
    region_overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Person(Base):
    """A natural person (自然人): the e-tax password is theirs, for all numbers (R2)."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    id_number: Mapped[str] = mapped_column(String(18))
    password_sealed: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PersonNumber(Base):
    """Who owns a number at the bureau: one person per number (R1)."""

    __tablename__ = "person_numbers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number_id: Mapped[int] = mapped_column(ForeignKey("numbers.id"), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    default_at_bureau: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the number came to this tenant's persons (a move between them keeps
    # it): the tenant sees the SMS it received from then on, not those before.
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Account(Base):
    """An e-tax account (电子税局账号): one person logging in with one number."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    number_id: Mapped[int] = mapped_column(ForeignKey("numbers.id"))
    # sub_number: the code reaches banshui; phone: it reaches a person's handset.
    login_type: Mapped[str] = mapped_column(String(20), default="sub_number")
    # A sub-number hosted at another provider: its codes are claimed there, signed
    # with the appKey/appSecret that provider issued (the secret sealed).
    provider_url: Mapped[str | None] = mapped_column(String(500))
    provider_app_key: Mapped[str | None] = mapped_column(String(64))
    provider_app_secret_sealed: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AccountEnterprise(Base):
    """An enterprise an account serves: its identity (身份) and default business."""

    __tablename__ = "account_enterprises"
    __table_args__ = (UniqueConstraint("account_id", "enterprise_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    identity_code: Mapped[str] = mapped_column(String(2))
    # issue (开票管理) or receive (收票管理), as the guide's 数电配置 sets it.
    default_business: Mapped[str] = mapped_column(String(10))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
