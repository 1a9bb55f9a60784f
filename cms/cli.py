"""`flask cms ...`: operator commands. They call the same services as the API."""

import click
from flask.cli import AppGroup

from cms.extensions import db
from cms.models import Role
from cms.services.users import create_user

cms_cli = AppGroup("cms", help="Content management commands.")


@cms_cli.command("create-user")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.CONTRIBUTOR.value,
    show_default=True,
)
@click.option("--name", "display_name", default=None, help="Display name (default: from e-mail)")
def create_user_command(email: str, password: str, role: str, display_name: str | None) -> None:
    """Create a user who can log in."""
    user = create_user(
        db.session, email=email, password=password, role=Role(role), display_name=display_name
    )
    db.session.commit()
    click.echo(f"Created {user.role.value} {user.email} (id {user.id}).")


@cms_cli.command("load-demo")
def load_demo_command() -> None:
    """Load the demo content (the samples and generated articles) unless already there."""
    from cms.demo import load_demo

    added = load_demo(db.session)
    db.session.commit()
    click.echo(f"Demo content: {added} articles added." if added else "Demo content present.")
