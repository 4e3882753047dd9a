"""Pure rules of accounts: email normalisation and the password policy."""

from services.errors import Invalid

MIN_PASSWORD_LENGTH = 10


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_password(password: str, email: str, field: str = "password") -> None:
    problems: list[str] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if password.isalpha() or password.isdigit():
        problems.append("must mix letters with digits or symbols")
    if normalise_email(email).split("@")[0] in password.lower():
        problems.append("must not contain the email's name")
    if problems:
        raise Invalid(field, "password " + " and ".join(problems))
