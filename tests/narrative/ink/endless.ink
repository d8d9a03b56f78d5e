Start.
* [Spin] -> spin
* [Talk] -> talk
== spin ==
-> spin
== talk ==
Bla.
-> talk
