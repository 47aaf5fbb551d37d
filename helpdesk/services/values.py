"""One rule per kind of value a person types: email addresses, phone numbers, and the keys of a
ticket's contact rows. The API schemas, the web forms, the services and the outbox all ask here."""

import functools
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

# Set from the app's configuration when it starts (configure): the region a phone number written
# without its country code (0113 496 0000) is read in.
settings: dict[str, Any] = {"phone_region": "GB"}


class ContactKey(StrEnum):
    """The key of a ticket's contact row (TicketAttribute.key, and the API's `attributes` names);
    `field` is the same key as the web forms and services.tickets.Contacts spell it."""

    MAIN_EMAIL = "mainEmail"
    ADDITIONAL_EMAIL = "additionalEmail"
    PHONE_NUMBER = "phoneNumber"
    PREFERRED_CONTACT_METHOD = "preferredContactMethod"

    @property
    def field(self) -> str:
        return self.name.lower()

    @classmethod
    def of_field(cls, field: str) -> "ContactKey":
        """The key a form field or Contacts attribute (`main_email`) names; KeyError if none."""
        return cls[field.upper()]


EMAIL_KEYS = (ContactKey.MAIN_EMAIL, ContactKey.ADDITIONAL_EMAIL)
SINGLE_KEYS = (ContactKey.MAIN_EMAIL, ContactKey.PHONE_NUMBER, ContactKey.PREFERRED_CONTACT_METHOD)
EMAIL_MESSAGE = "must be one email address"
PHONE_MESSAGE = "must be a phone number"


def configure(config: Mapping[str, Any]) -> None:
    """Take the default phone region from the app's configuration."""
    settings.update(phone_region=str(config.get("PHONE_REGION") or "GB").upper())


def email_error(value: str) -> str | None:
    """Why `value` is not one plain email address (no display name, no list, a dot in the domain),
    or None when it is. Syntax only: nothing is looked up in the DNS."""
    # No address is longer than 254 characters (the validator says so too); the bound keeps what
    # the cache below holds small.
    return EMAIL_MESSAGE if len(value) > 320 else _email_error(value)


@functools.lru_cache(maxsize=4096)
def _email_error(value: str) -> str | None:
    """Remembered: the ticket page checks each of its contacts' addresses (~40 us each)."""
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return EMAIL_MESSAGE
    return None


def is_email(value: str) -> bool:
    """Whether `value` is one plain email address (see email_error)."""
    return email_error(value) is None


def phone_error(value: str) -> str | None:
    """Why `value` cannot be a phone number (in PHONE_REGION unless it starts with +country), or
    None when it can. It is checked for a possible length, not against the allocation tables, and
    stored as entered."""
    try:
        number = phonenumbers.parse(value, settings["phone_region"])
    except phonenumbers.NumberParseException:
        return PHONE_MESSAGE
    return None if phonenumbers.is_possible_number(number) else PHONE_MESSAGE


def is_phone(value: str) -> bool:
    """Whether `value` can be a phone number (see phone_error)."""
    return phone_error(value) is None


def contact_error(key: str, value: str) -> str | None:
    """Why `value` cannot be the contact `key` (a ContactKey), or None when it can: addresses must
    be email addresses, the phone number a phone number; the preferred method is free text, as the
    API contract has it."""
    if key in EMAIL_KEYS:
        return email_error(value)
    return phone_error(value) if key == ContactKey.PHONE_NUMBER else None
