from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, TimestampMixin


class StaffMember(TimestampMixin, Base):
    """A staff member seen in the staff group, with a role: agent < admin < owner."""

    __tablename__ = "staff_members"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(160))
    username: Mapped[str | None] = mapped_column(String(64))
