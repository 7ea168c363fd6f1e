"""A customer's data for admins (GDPR articles 15 and 17): all of it as JSON, or erased. Both are
audited; `python -m bot privacy export|erase` does the same from the shell."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import AfterValidator, BaseModel, Field, field_validator

from api.deps import Admin, client_address
from bot.privacy.run import erase_customer, export_customer
from bot.textscan import EMAIL_MAX_CHARS, EMAIL_PATTERN, clean_email

router = APIRouter(prefix="/api/v1/privacy", tags=["privacy"])


class CustomerIn(BaseModel):
    email: str = Field(max_length=EMAIL_MAX_CHARS, json_schema_extra={"pattern": EMAIL_PATTERN})

    @field_validator("email")
    @classmethod
    def _email_is_valid(cls, value: str) -> str:
        return clean_email(value)


class Erased(BaseModel):
    counts: dict[str, int] = Field(description="rows changed per kind; Rasa's tracker records deleted")


@router.get("/export")
def export_data(request: Request, admin: Admin,
                email: Annotated[str, AfterValidator(clean_email),
                                 Query(max_length=EMAIL_MAX_CHARS, json_schema_extra={"pattern": EMAIL_PATTERN},
                                       description="the customer's e-mail address")]
                ) -> dict[str, Any]:
    """Everything held about the customer: chats with every line, tickets with their history, feedback
    given under their name, survey answers."""
    return export_customer(email, actor=admin.email, actor_id=admin.id, address=client_address(request))


@router.post("/erase", response_model=Erased)
def erase_data(body: CustomerIn, request: Request, admin: Admin) -> Erased:
    """Names, addresses and every text of the customer's chats, tickets, feedback and survey comments
    are removed, and Rasa's state of those chats; the rows stay, so reports count the same."""
    return Erased(counts=erase_customer(body.email, actor=admin.email, actor_id=admin.id,
                                        address=client_address(request)))
