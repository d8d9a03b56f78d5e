Pick a door.
* [One] -> done
* [Two] -> done
* [Three] -> done
* [Four] -> done
* [Five] -> done
* [Six] -> done
== done ==
Done.
-> END
