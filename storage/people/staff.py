"""Staff roles. A member of the staff group is an agent (recorded the first time they act, after the
caller checked their membership with Telegram); admins and owners are recorded here, owners
bootstrapped from configuration. Which role an action needs is declared where its handler is
registered (handlers.authority)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core.inputs import MAX_TELEGRAM_ID, int_or_none
from storage.core.refusals import Refused
from storage.people.models import StaffMember


class Role(IntEnum):
    AGENT = 1
    ADMIN = 2
    OWNER = 3

    @property
    def label(self) -> str:
        return self.name.lower()


class RoleChangeRefused(Refused):
    """`code` names the localized reason."""


# What the staff group's Telegram creator and administrators count as (GROUP_CREATOR_ROLE,
# GROUP_ADMIN_ROLE): "none" gives them nothing beyond what a member has (agent, or their recorded role).
GROUP_ROLES: dict[str, Role | None] = {
    "owner": Role.OWNER,
    "admin": Role.ADMIN,
    "agent": Role.AGENT,
    "none": None,
}


def group_role(status: str, creator_role: str, admin_role: str) -> Role | None:
    """The role a Telegram status in the staff group gives ("creator", "administrator", ...), by the
    settings; None for any other status. Not recorded: losing the status in Telegram loses the role."""
    if status == "creator":
        return GROUP_ROLES[creator_role]
    if status == "administrator":
        return GROUP_ROLES[admin_role]
    return None


def effective_role(recorded: Role, mapped: Role | None) -> Role:
    return max(recorded, mapped) if mapped is not None else recorded


def can_see_personal_data(role: Role) -> bool:
    return role >= Role.ADMIN


async def bootstrap_owners(session: AsyncSession, owner_ids: Iterable[int]) -> None:
    for telegram_id in owner_ids:
        member = await session.get(StaffMember, telegram_id)
        if member is None:
            session.add(StaffMember(telegram_id=telegram_id, role=Role.OWNER.label, name=str(telegram_id)))
        elif member.role != Role.OWNER.label:
            member.role = Role.OWNER.label
    await session.flush()


async def role_in_staff_group(
    session: AsyncSession, telegram_id: int, name: str, username: str | None
) -> Role:
    """The role of a verified member of the staff group; first-time members are recorded as agents."""
    member = await session.get(StaffMember, telegram_id)
    if member is None:
        member = StaffMember(
            telegram_id=telegram_id, role=Role.AGENT.label, name=name[:160], username=username
        )
        session.add(member)
    elif (member.name, member.username) != (name[:160], username):
        member.name, member.username = name[:160], username
    await session.flush()
    return Role[member.role.upper()]


async def recorded_role(
    session: AsyncSession, telegram_id: int, name: str, username: str | None
) -> Role | None:
    """The role of a member recorded as they are now, read without writing; None when
    role_in_staff_group has something to write (a first-time member, a new name or username)."""
    row = (
        await session.execute(
            select(StaffMember.role, StaffMember.name, StaffMember.username).where(
                StaffMember.telegram_id == telegram_id
            )
        )
    ).first()
    if row is None or (row.name, row.username) != (name[:160], username):
        return None
    return Role[row.role.upper()]


async def role_of(session: AsyncSession, telegram_id: int) -> Role | None:
    """The recorded role, whatever the name (an owner's buttons work in any group)."""
    role = await session.scalar(select(StaffMember.role).where(StaffMember.telegram_id == telegram_id))
    return Role[role.upper()] if role is not None else None


async def revoke(session: AsyncSession, telegram_id: int) -> str | None:
    """Someone left the staff group: their role goes (owners stay: they come from configuration, and
    cannot act while they are not members anyway). Returns the role they had, None when nothing changed."""
    member = await session.get(StaffMember, telegram_id)
    if member is None or member.role == Role.OWNER.label:
        return None
    role = member.role
    await session.delete(member)
    await session.flush()
    return role


@dataclass(frozen=True)
class Member:
    """A line of the staff list."""

    telegram_id: int
    role: Role
    name: str
    username: str | None


async def list_staff(session: AsyncSession) -> list[Member]:
    """Everyone on the staff, highest role first, then by name (one query)."""
    rows = await session.execute(
        select(StaffMember.telegram_id, StaffMember.role, StaffMember.name, StaffMember.username)
    )
    members = [
        Member(telegram_id, Role[role.upper()], name, username) for telegram_id, role, name, username in rows
    ]
    return sorted(members, key=lambda m: (-m.role, m.name.lower()))


async def names(session: AsyncSession, telegram_ids: Iterable[int | None]) -> dict[int, str]:
    """Staff members' names by Telegram id, in one query; someone not on the staff is missing."""
    wanted = {i for i in telegram_ids if i is not None}
    if not wanted:
        return {}
    rows = await session.execute(
        select(StaffMember.telegram_id, StaffMember.name).where(StaffMember.telegram_id.in_(wanted))
    )
    return {telegram_id: name for telegram_id, name in rows}


async def set_role(session: AsyncSession, actor_role: Role, target_id: int, role: Role) -> StaffMember:
    """Only an owner promotes to admin or demotes to agent; owners come from configuration only."""
    if actor_role < Role.OWNER:
        raise RoleChangeRefused("staff.refused_owner_only")
    if role == Role.OWNER:
        raise RoleChangeRefused("staff.refused_owner_config")
    member = await session.get(StaffMember, target_id)
    if member is None:
        raise RoleChangeRefused("staff.refused_unknown")
    if member.role == Role.OWNER.label:
        raise RoleChangeRefused("staff.refused_owner_config")
    member.role = role.label
    await session.flush()
    return member


async def find_member(session: AsyncSession, reference: str) -> StaffMember | None:
    """A staff member from "@username" or a Telegram id."""
    ref = reference.strip()
    if ref.startswith("@"):
        rows = await session.scalars(select(StaffMember))
        return next((m for m in rows if (m.username or "").lower() == ref[1:].lower()), None)
    telegram_id = int_or_none(ref, low=1, high=MAX_TELEGRAM_ID)
    return await session.get(StaffMember, telegram_id) if telegram_id is not None else None
