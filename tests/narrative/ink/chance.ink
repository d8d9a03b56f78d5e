# wpm: 600
-> roll
== roll ==
You roll {RANDOM(1, 1000)}. The card is {~the ace|the king|the queen|the jack}.
+ [Again] -> roll
* [Stop] -> END
