"""`propdesk sandbox`: try PropDesk without Telegram, every role's chat side by side in a page.

`runner` starts the real bot against the Bot API emulator with a movable clock and binds the
demo office (`dataset`) through the bot; `server` and `api` serve the page (`static/`, plain
HTML, CSS and JavaScript, no build step) whose words are in `strings` for Babel.
"""
