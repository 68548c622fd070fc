"""CalDAV calendar collections as the iCalendar side of a pair.

xml       request bodies and multistatus answers (pure)
client    DavClient: one collection over httpx.AsyncClient
mirror    what was last seen of the collection, in the state folder
ioloop    the thread every CalDAV request runs on
storage   CalDavStorage: the storage interface on top of them
"""
