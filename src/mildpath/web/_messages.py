"""Interface strings defined in English elsewhere (navigation links of each subject module, the diary's
questions, choices and level headings), marked here so that ``make i18n`` extracts them; templates translate
them where they are shown (``_(link.label)``). A string that is not in the catalogue shows in English."""

from __future__ import annotations

from mildpath.web.i18n import N_

NAVIGATION = (
    N_("Learn about mild"),
    N_("Plain-language pages about the mild procedure"),
    N_("Ask a question"),
    N_("Type a question and find the answer"),
    N_("Learn"),
    N_("Pages for where you are in your care, with your dates"),
    N_("Check if mild may suit you"),
    N_("Self-check"),
    N_("Could mild help? Answer a few questions"),
    N_("My recovery"),
    N_("Your recovery plan, day by day"),
    N_("Symptom diary"),
    N_("Tell your care team how you are doing"),
    N_("Questionnaires"),
    N_("Questionnaires to answer, your results"),
    N_("My procedure"),
    N_("Outcomes"),
)
DIARY = (
    N_("Back pain now"),
    N_("Leg pain now"),
    N_("0 = no pain, 10 = the worst pain you can imagine"),
    N_("New or worse weakness in a leg or foot?"),
    N_("Weakness in both legs?"),
    N_("New or worse numbness in a leg or foot?"),
    N_("Numbness between your legs, around your bottom or genitals?"),
    N_("A new change in bladder or bowel control?"),
    N_("A headache that is worse when you sit or stand, and better lying down?"),
    N_("Do you feel feverish or have chills?"),
    N_("Looks fine"),
    N_("Redness"),
    N_("Swelling"),
    N_("Fluid coming out"),
    N_("Better"),
    N_("About the same"),
    N_("Worse"),
    N_("Emergency: get help now"),
    N_("Call the clinic today"),
    N_("Your care team should look at this"),
    N_("Expected during recovery"),
    N_("Emergency"),
    N_("Same day"),
    N_("Review"),
    N_("Expected"),
    N_("Temperature (°C)"),
    N_("Compared with before the procedure"),
    N_("Days of flare-up"),
    N_("Email or password is not right."),
)
