from django.apps import AppConfig


class ChannelsAppConfig(AppConfig):
    name = "channels_app"
    verbose_name = "Channels"

    def ready(self) -> None:
        # Imported here, once the app registry is ready (they import models): Django's place
        # for connecting receivers, not a way around an import circle.
        from channels_app import tasks
        from contactcenter.crm.calls import call_to_connect, call_to_place
        from contactcenter.crm.messages import reply_to_send

        reply_to_send.connect(tasks.deliver_reply)
        call_to_place.connect(tasks.place_requested_call)
        call_to_connect.connect(tasks.connect_taken_call)
