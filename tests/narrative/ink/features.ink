# title: Features
# wpm: 600
VAR coins = 0
VAR key = false
VAR rounds = 0
-> hall

== hall ==
~ rounds = rounds + 1
The hall, round {rounds}. You hold {coins} coins.
* [Search the drawer]
    You find a key.
    ~ key = true
    -> hall
* {key} [Unlock the cellar]
    -> cellar
+ {coins < 2} [Count a coin]
    ~ coins = coins + 1
    -> visit_clerk -> hall
* -> out

== cellar ==
The cellar is cold.
* Climb back up
    -> hall
* [Sit down in the dark]
    You wait until nothing happens.
    -> out

== visit_clerk ==
The clerk writes the coin down. Coins: {coins}.
->->

== out ==
You leave after {rounds} rounds with {coins} coins{key: and a key}.
-> END
