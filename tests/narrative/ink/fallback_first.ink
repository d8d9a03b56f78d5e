VAR tries = 0
-> ask
== ask ==
~ tries = tries + 1
Try {tries}.
* -> gave_up
* [Yes] -> ask
* [No] -> ask
== gave_up ==
You gave up after {tries} tries.
-> END
