"""The DfE Child in Need census code lists (2025-26 and 2026-27 collections), in plain words.

One place for the codes: the forms offer the same values (tests/unit/test_forms.py checks that
their labels match these) and the census export checks answers against them.
"""

from __future__ import annotations

SEX = {"M": "Male", "F": "Female", "U": "Not known or not recorded (and unborn children)"}

ETHNICITY = {
    "WBRI": "White British",
    "WIRI": "White Irish",
    "WIRT": "Traveller of Irish heritage",
    "WROM": "Gypsy or Roma",
    "WOTH": "Any other White background",
    "MWBC": "White and Black Caribbean",
    "MWBA": "White and Black African",
    "MWAS": "White and Asian",
    "MOTH": "Any other mixed background",
    "AIND": "Indian",
    "APKN": "Pakistani",
    "ABAN": "Bangladeshi",
    "AOTH": "Any other Asian background",
    "BCRB": "Black Caribbean",
    "BAFR": "Black African",
    "BOTH": "Any other Black background",
    "CHNE": "Chinese",
    "OOTH": "Any other ethnic group",
    "REFU": "Refused",
    "NOBT": "Information not yet obtained",
}

DISABILITY = {
    "NONE": "No disability",
    "MOB": "Mobility: getting about",
    "HAND": "Hand function: using hands for everyday tasks",
    "PC": "Personal care: eating, washing, dressing",
    "INC": "Incontinence or bladder and bowel control",
    "COMM": "Communication: speaking or understanding others",
    "LD": "Learning: understanding or learning",
    "HEAR": "Hearing",
    "VIS": "Vision",
    "BEH": "Behaviour",
    "CON": "Consciousness: seizures",
    "AUT": "Autism or Asperger syndrome",
    "DDA": "Other disability under the Equality Act",
}

UPN_UNKNOWN = {
    "UN1": "Under 6 and not yet at school",
    "UN2": "Has never attended a school in England",
    "UN3": "Educated outside school",
    "UN4": "Newly arrived from abroad, no UPN yet",
    "UN5": "The records of the UPN disagree",
    "UN6": "School age, UPN asked for but not yet known",
    "UN7": "Referral with no further action",
}

REFERRAL_SOURCE = {
    "1A": "Individual: family member, relative or carer",
    "1B": "Individual: acquaintance, including neighbours and child minders",
    "1C": "Individual: self",
    "1D": "Individual: other",
    "2A": "Schools",
    "2B": "Education services",
    "3A": "Health: GP",
    "3B": "Health: health visitor",
    "3C": "Health: school nurse",
    "3D": "Health: other primary health services",
    "3E": "Health: A&E (emergency department)",
    "3F": "Health: other",
    "4": "Housing (local authority or housing association)",
    "5A": "Local authority services: social care",
    "5B": "Local authority services: other internal department",
    "5C": "Local authority services: external, for example another council",
    "5D": "Local authority services: early help",
    "6": "Police",
    "7": "Other legal agency, including courts, probation and immigration",
    "8": "Other",
    "9": "Anonymous",
    "10": "Unknown",
}

PRIMARY_NEED = {
    "N1": "Abuse or neglect",
    "N2": "Child's disability or illness",
    "N3": "Parental disability or illness",
    "N4": "Family in acute stress",
    "N5": "Family dysfunction",
    "N6": "Socially unacceptable behaviour",
    "N7": "Low income",
    "N8": "Absent parenting",
    "N9": "Cases other than children in need",
    "N0": "Not stated",
}

CLOSURE_REASON = {
    "RC1": "Adopted",
    "RC2": "Died",
    "RC3": "Child arrangements order",
    "RC4": "Special guardianship order",
    "RC5": "Transferred to services of another local authority",
    "RC6": "Transferred to adult social care services",
    "RC7": "Services ceased for any other reason, including child no longer in need",
    "RC8": "Case closed after assessment, no further action",
    "RC9": "Case closed after assessment, referred to early help",
}

CATEGORY_OF_ABUSE = {
    "NEG": "Neglect",
    "PHY": "Physical abuse",
    "SAB": "Sexual abuse",
    "EMO": "Emotional abuse",
    "MUL": "Multiple categories",
}

# Factors identified at the end of assessment ("A" about the child, "B" a parent or carer, "C"
# another person in the household). 18A and 19A are no longer used: 18B/C and 19B/C are.
ASSESSMENT_FACTOR = {
    "1A": "Alcohol misuse: the child",
    "1B": "Alcohol misuse: a parent or carer",
    "1C": "Alcohol misuse: another person in the household",
    "2A": "Drug misuse: the child",
    "2B": "Drug misuse: a parent or carer",
    "2C": "Drug misuse: another person in the household",
    "3A": "Domestic abuse: the child",
    "3B": "Domestic abuse: a parent or carer",
    "3C": "Domestic abuse: another person in the household",
    "4A": "Mental health: the child",
    "4B": "Mental health: a parent or carer",
    "4C": "Mental health: another person in the household",
    "5A": "Learning disability: the child",
    "5B": "Learning disability: a parent or carer",
    "5C": "Learning disability: another person in the household",
    "6A": "Physical disability or illness: the child",
    "6B": "Physical disability or illness: a parent or carer",
    "6C": "Physical disability or illness: another person in the household",
    "7A": "Young carer",
    "8B": "Privately fostered: UK family arrangement",
    "8C": "Privately fostered: overseas child who intends to return",
    "8D": "Privately fostered: overseas child who intends to stay",
    "8E": "Privately fostered: UK educational arrangement",
    "8F": "Privately fostered: other",
    "9A": "Unaccompanied asylum-seeking child",
    "10A": "Going or being missing",
    "11A": "Child sexual exploitation",
    "12A": "Trafficking",
    "13A": "Gangs",
    "14A": "Socially unacceptable behaviour",
    "15A": "Self-harm",
    "16A": "Abuse or neglect: neglect",
    "17A": "Abuse or neglect: emotional abuse",
    "18B": "Abuse or neglect: physical abuse by an adult",
    "18C": "Abuse or neglect: physical abuse by another child",
    "19B": "Abuse or neglect: sexual abuse by an adult",
    "19C": "Abuse or neglect: sexual abuse by another child",
    "20": "Other",
    "21": "No factors identified",
    "22A": "Female genital mutilation",
    "23A": "Abuse linked to faith or belief",
    "24A": "Child criminal exploitation",
}

# Councils' DfE local authority codes (the census header and UPN characters 2-4). A regional
# arrangement such as Teeswide returns one census per local authority: pass the code.
LA_CODES = {
    "portsmouth": "851",
    "dudley": "332",
    "rochdale": "354",
    "walthamforest": "320",
}

_CHECK_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


def upn_check_letter(rest: str) -> str:
    """The check letter (character 1) of a UPN whose characters 2-13 are `rest` (12 digits)."""
    total = sum(int(ch) * weight for weight, ch in enumerate(rest, start=2))
    return _CHECK_LETTERS[total % 23]


def upn_problem(upn: str) -> str | None:
    """Why a unique pupil number is not valid, or None. (The DfE's rules 1510-1550.)"""
    if len(upn) != 13:
        return "a UPN has 13 characters"
    if not upn[1:12].isdigit():
        return "characters 2 to 12 of a UPN are digits"
    if not (upn[12].isdigit() or upn[12] in _CHECK_LETTERS):
        return "character 13 of a UPN is a digit or a letter"
    if upn[12].isdigit() and upn[0] != upn_check_letter(upn[1:]):
        return "the check letter (character 1) of the UPN is wrong"
    return None


def labelled(codes: dict[str, str]) -> dict[str, str]:
    """Form labels: the code first, so a manager can match it to DfE guidance."""
    return {code: f"{code} {label}" for code, label in codes.items()}
