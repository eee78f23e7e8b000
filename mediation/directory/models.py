from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mediation import clock
from mediation.database import UTCDateTime
from mediation.extensions import db


class Centre(db.Model):
    """A county dispute resolution centre (矛调中心); code is the 6-digit region code."""

    __tablename__ = "centre"
    __table_args__ = (CheckConstraint("length(code) = 6", name="code_six_digits"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    abbreviation: Mapped[str] = mapped_column(String(20))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    # Whom a party calls for help (the portal's pages name it); empty until an admin sets it.
    phone: Mapped[str] = mapped_column(String(30), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # None until an administrator saves them (settings_for gives the defaults then).
    settings: Mapped["CentreSettings | None"] = relationship()

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class Channel(db.Model):
    """How a dispute reached the centre (来源渠道); the codes are fixed by SPEC 3.1."""

    __tablename__ = "channel"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    sort_order: Mapped[int] = mapped_column(default=0)


class Category(db.Model):
    """A kind of dispute (纠纷类型) with its default mediation period in calendar days."""

    __tablename__ = "category"
    __table_args__ = (CheckConstraint("mediation_days > 0", name="positive_period"),)

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    sort_order: Mapped[int] = mapped_column(default=0)
    mediation_days: Mapped[int] = mapped_column(default=30)


class CentreCategory(db.Model):
    """A centre's own mediation period for a category, where it differs from the default."""

    __tablename__ = "centre_category"

    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), primary_key=True)
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"), primary_key=True)
    mediation_days: Mapped[int]


class CentreSettings(db.Model):
    """Deadlines and allowances a centre's administrator may change (SPEC 3.3)."""

    __tablename__ = "centre_settings"
    __table_args__ = (
        CheckConstraint("triage_days >= 1 and triage_days_high_risk >= 1", name="triage_days"),
        CheckConstraint("warning_days >= 0", name="warning_days"),
        CheckConstraint("extension_max_days >= 0", name="extension_max_days"),
    )

    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), primary_key=True)
    triage_days: Mapped[int] = mapped_column(default=3)
    triage_days_high_risk: Mapped[int] = mapped_column(default=1)
    warning_days: Mapped[int] = mapped_column(default=5)
    extensions_allowed: Mapped[bool] = mapped_column(default=True)
    extension_max_days: Mapped[int] = mapped_column(default=30)
    # The incentive measures a certificate grants, one per line (SPEC 3.4).
    incentive_measures: Mapped[str] = mapped_column(
        Text, default="诉讼费用减免\n优先调解服务\n诚信红名单"
    )


class CalendarDay(db.Model):
    """An exception to Monday-to-Friday: a public holiday on a weekday (is_workday false) or
    an adjusted working day (调休) on a weekend (is_workday true)."""

    __tablename__ = "calendar_day"

    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    is_workday: Mapped[bool]
    note: Mapped[str] = mapped_column(String(50), default="")


class Organization(db.Model):
    """A mediation organisation (调解组织) of one of the SPEC 3.1 kinds."""

    __tablename__ = "organization"
    __table_args__ = (
        CheckConstraint(
            "kind in ('people', 'professional', 'court_invited', 'administrative', 'lawyer')",
            name="known_kind",
        ),
        UniqueConstraint("centre_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    phone: Mapped[str] = mapped_column(String(30), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    is_active: Mapped[bool] = mapped_column(default=True)

    mediators: Mapped[list["Mediator"]] = relationship(
        back_populates="organization", order_by="Mediator.name"
    )


mediator_specialty = Table(
    "mediator_specialty",
    db.metadata,
    Column("mediator_id", ForeignKey("mediator.id", ondelete="CASCADE"), primary_key=True),
    Column("category_code", ForeignKey("category.code"), primary_key=True),
)


class Mediator(db.Model):
    """A mediator (调解员); may have a login (user_id) or work without one."""

    __tablename__ = "mediator"
    __table_args__ = (CheckConstraint("max_caseload >= 0", name="caseload"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(30), default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    max_caseload: Mapped[int] = mapped_column(default=20)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), unique=True)

    organization: Mapped[Organization] = relationship(back_populates="mediators")
    specialties: Mapped[list[Category]] = relationship(
        secondary=mediator_specialty, order_by=Category.sort_order
    )


class RoutingRule(db.Model):
    """Category (and optionally street) → an organisation, ranked by preference (分流规则)."""

    __tablename__ = "routing_rule"
    __table_args__ = (
        UniqueConstraint("centre_id", "category_code", "street", "organization_id"),
        Index("ix_routing_rule_lookup", "centre_id", "category_code", "street", "rank"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"))
    category_code: Mapped[str] = mapped_column(ForeignKey("category.code"))
    # Empty string: any street. (Not NULL, so the unique constraint holds on every engine.)
    street: Mapped[str] = mapped_column(String(50), default="")
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    rank: Mapped[int] = mapped_column(default=1)

    organization: Mapped[Organization] = relationship()
