"""The published catalogues: data scopes and purposes, in plain language.

Scopes name a data category and a level. Purposes are modelled on W3C DPV purposes
(https://w3id.org/dpv#Purpose); a consent carries one purpose code from this list plus
the partner's own words. Both lists are served by the API (``/api/v1/scopes``,
``/api/v1/purposes``) and documented in docs/api.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from oauth2_provider.scopes import BaseScopes


@dataclass(frozen=True)
class Scope:
    name: str
    category: str
    description: str


@dataclass(frozen=True)
class Purpose:
    code: str
    ref_uri: str
    title: str
    description: str


SCOPES: dict[str, Scope] = {
    scope.name: scope
    for scope in [
        Scope("lifelog.moments:read", "moments", "Read your moments (notes, photos' descriptions, places visited)."),
        Scope("lifelog.location:coarse", "location", "See roughly where you were (to about 1 km), never at home."),
        Scope("lifelog.location:precise", "location", "See exactly where you were, outside your privacy zones."),
        Scope("lifelog.heartrate:read", "heartrate", "Read your heart-rate readings with their times."),
        Scope("social.interests:read", "social_interests", "Read what you liked and followed on social networks."),
        Scope("social.posts:read", "social_posts", "Read the posts you wrote on social networks."),
        Scope("insights.interests:read", "insights", "Read interest profiles computed from your data."),
        Scope("vault.contribute:write", "contribute", "Add records to your vault (you can delete them)."),
        Scope(
            "club.view:read",
            "club",
            "Read what the members of a data-sharing club observed about you (purchases, interests, "
            "life events), within the club's rules; you can delete any of it.",
        ),
        Scope(
            "club.segments:aggregate",
            "club",
            "Count you, never by name, in statistics that members of this firm's data-sharing clubs may ask for "
            "(how many people bought in a category, by region of about 10 km and by week; small groups are never "
            "shown: the club sets the minimum, 10 by default), and let those members ask you, through your "
            "portal, for a consent.",
        ),
    ]
}

PURPOSES: dict[str, Purpose] = {
    purpose.code: purpose
    for purpose in [
        Purpose(
            "ServiceProvision",
            "https://w3id.org/dpv#ServiceProvision",
            "Providing a service you asked for",
            "To deliver a product or service you requested from them.",
        ),
        Purpose(
            "ServicePersonalisation",
            "https://w3id.org/dpv#ServicePersonalisation",
            "Personalising their service",
            "To tailor their service, offers or recommendations to you.",
        ),
        Purpose(
            "PersonalisedAdvertising",
            "https://w3id.org/dpv#PersonalisedAdvertising",
            "Personalised advertising",
            "To show you advertising chosen for you.",
        ),
        Purpose(
            "InsuranceRiskAssessment",
            "https://w3id.org/dpv#InsuranceRiskAssessment",
            "Assessing insurance risk",
            "To assess risk and set the price of an insurance policy.",
        ),
        Purpose(
            "ResearchAndDevelopment",
            "https://w3id.org/dpv#ResearchAndDevelopment",
            "Research and development",
            "To research and improve their products.",
        ),
        Purpose(
            "CustomerCare",
            "https://w3id.org/dpv#CustomerCare",
            "Customer care",
            "To help you as their customer.",
        ),
        Purpose(
            "LoyaltyProgramme",
            "https://w3id.org/dpv#ServiceProvision",
            "Loyalty programme",
            "To run a loyalty or rewards programme you joined.",
        ),
    ]
}


def scope_descriptions() -> dict[str, str]:
    return {name: scope.description for name, scope in SCOPES.items()}


class CatalogueScopes(BaseScopes):
    """django-oauth-toolkit scopes backend over the published catalogue.

    No scope is granted by default: a partner must name what it asks for, and the
    consent it references decides what the grant carries.
    """

    def get_all_scopes(self) -> dict[str, str]:
        return scope_descriptions()

    def get_available_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        return list(SCOPES)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs) -> list[str]:
        return []
