"""What `flask demo load` creates."""

from dataclasses import dataclass

from mediation.audit.log import record
from mediation.auth.accounts import add_user, user_by_username
from mediation.auth.models import Role
from mediation.directory.centres import add_centre, centre_by_code
from mediation.directory.models import Centre

DEMO_CENTRE = ("330106", "西湖区社会矛盾纠纷调处化解中心", "西湖")
DEMO_PASSWORD = "demo-pass-2026"


@dataclass(frozen=True)
class DemoLogin:
    username: str
    display_name: str
    role: Role


DEMO_LOGINS = (
    DemoLogin("demo-admin", "王管理", Role.ADMIN),
    DemoLogin("demo-staff", "李受理", Role.STAFF),
    DemoLogin("demo-mediator", "张调解", Role.MEDIATOR),
    DemoLogin("demo-mediator2", "陈调解", Role.MEDIATOR),
)


def load_demo() -> Centre:
    """Create the demo centre and logins; what exists already is left as it is."""
    code, name, abbreviation = DEMO_CENTRE
    centre = centre_by_code(code) or add_centre(code, name, abbreviation)
    for login in DEMO_LOGINS:
        if user_by_username(login.username) is None:
            add_user(login.username, login.display_name, login.role, DEMO_PASSWORD, centre)
    record("demo.load", target=centre.code, centre_id=centre.id)
    return centre
