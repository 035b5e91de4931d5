"""The Jinja2 templates of the pages, shared by the routes that render HTML."""

from fastapi.templating import Jinja2Templates

import web

templates = Jinja2Templates(env=web.jinja)
