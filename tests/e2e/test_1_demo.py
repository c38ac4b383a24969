"""The demo path (`make demo`) end to end: the app answers at the printed URL with both lines
of the original page, and a second run changes nothing. Fixture: conftest.py."""

import re
import urllib.request

from .conftest import recap


def test_demo_comes_up_and_prints_the_url(demo):
    first = demo.up
    assert first.returncode == 0, first.stdout[-5000:]
    url = re.search(r"The app answers at (http://127\.0\.0\.1:\d+/)", first.stdout).group(1)
    assert url == demo.url
    with urllib.request.urlopen(url, timeout=10) as response:
        page = response.read().decode()
    assert "FATEC AMERICANA" in page
    assert "Essa é uma simples aplicação rodando em Docker" in page
    assert "local signed stand-in for Docker's apt repository" in first.stdout
    tagged = [{"Name": "tag:Deployment", "Values": ["e2e"]}]
    assert demo.ec2().describe_security_groups(Filters=tagged)["SecurityGroups"]


def test_second_run_changes_nothing(deployed):
    second = deployed.play("playbooks/demo/up.yml")
    assert second.returncode == 0, second.stdout[-5000:]
    hosts = recap(second.stdout)
    assert hosts, second.stdout[-3000:]
    assert all(changed == 0 for changed, _, _ in hosts.values()), hosts
