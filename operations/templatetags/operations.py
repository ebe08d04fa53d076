from django import template

from operations import monitoring

register = template.Library()


@register.inclusion_tag("operations/_alarms.html", takes_context=True)
def alarm_banner(context):
    return {"alarms": list(monitoring.open_alarms()[:10]), "request": context.get("request"), "csrf_token": context.get("csrf_token")}
