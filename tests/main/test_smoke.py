"""First checks that the harness and the main flow work."""

from tests.helpers import PASSWORD, path_of


def test_register_login_profile(client, auth, mailbox):
    from tests.helpers import csrf_token

    token = csrf_token(client, "/auth/register")
    response = client.post(
        "/auth/register",
        data={
            "display_name": "Ana Silva",
            "email": "ana@example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.status_code == 303
    assert "Confirm your email" in mailbox.to("ana@example.com")[-1]["Subject"]
    page = client.get("/profile")
    assert page.status_code == 200 and "Ana Silva" in page.get_data(as_text=True)
    link = mailbox.last_link("ana@example.com", "/auth/verify/")
    assert client.get(path_of(link)).status_code == 302


def test_health(client):
    body = client.get("/api/v1/health").get_json()
    assert body["checks"]["database"] == "ok"
