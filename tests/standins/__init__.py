"""Local stand-ins for the Slack Web API and the NLPearl REST API, served over loopback HTTP."""

from bot.demo.nlpearl_api import NLPearlStandIn
from tests.standins.slack import SlackStandIn

__all__ = ["NLPearlStandIn", "SlackStandIn"]
