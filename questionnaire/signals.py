"""Signals that let upper layers react to the questionnaire without it importing them."""

from django.dispatch import Signal

# Sent by questionnaire.services.submit_questionnaire once the transaction that stored the
# participant's completion has committed (never for a refused or rolled-back submission), with
# the keyword argument:
#   enrollment_id   the id of the enrolment whose questionnaire was completed
# Receivers run after the commit, in the request: they must not raise; queue work instead.
# certificates queues the certificate, if it is now due, here; its periodic task catches
# anything a broker outage made it miss.
questionnaire_completed = Signal()
